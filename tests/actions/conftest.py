"""The real Open311 server in process, for the actions that file and read service requests."""

from tests.open311.conftest import followers, open311, open311_app, open311_settings  # noqa: F401
