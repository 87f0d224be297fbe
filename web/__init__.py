"""The web app (FastAPI): web chat page; later the agent console and the Open311 API."""
