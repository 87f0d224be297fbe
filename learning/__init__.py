"""The data scientists' loop: real conversations become reviewed training examples.

    python -m learning export   recent conversations -> a review file of candidate examples (redacted)
    python -m learning merge    the reviewed file's accepted examples -> bot/data/training/ (no duplicates)

(``make export`` and ``make merge``; see the README's "Learning from real conversations".)
"""
