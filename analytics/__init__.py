"""What citizens asked and how the bot did, for the city: figures from the tracker, handoff and request stores.

No personal data: counts, rates and waiting times; the FAQ questions shown are the gap log's
(already masked, privacy/redact.py). The page is the handoff service's /console/analytics (admins).
"""
