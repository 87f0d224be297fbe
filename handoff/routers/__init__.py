"""The handoff app's routes: the bot's service API and the agent console."""
