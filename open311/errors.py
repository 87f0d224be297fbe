"""The open311 package's exceptions: one base class, mapped to HTTP in open311/api.py."""

from __future__ import annotations


class Open311Error(Exception):
    """Base class of every error raised by the open311 package."""

    @property
    def descriptions(self) -> list[str]:
        """What went wrong, one line per problem (Open311 errors are a list)."""
        return [str(arg) for arg in self.args] or [type(self).__name__]


class StoreUnavailable(Open311Error):
    """The service-request database could not be reached or written."""


class CatalogueUnavailable(Open311Error):
    """The service catalogue file could not be read."""


class UnknownService(Open311Error):
    """A service code that is not in the catalogue."""


class RequestNotFound(Open311Error):
    """No service request with that id."""


class InvalidServiceRequest(Open311Error):
    """A request that cannot be accepted as sent; each argument describes one problem."""


class InvalidApiKey(Open311Error):
    """The api_key is missing, unknown, or not allowed to do this."""


class UnknownFormat(Open311Error):
    """A format suffix other than .json and .xml."""


class BodyTooLarge(Open311Error):
    """A request body over the size limit."""


# The bot's client of an Open311 server (open311/client.py).
class ServerUnavailable(Open311Error):
    """The Open311 server could not be reached, or failed (5xx)."""


class FilingUncertain(ServerUnavailable):
    """A request was sent but no answer came: the server may have filed it."""


class ServerRejected(Open311Error):
    """The Open311 server refused the call (4xx); ``status`` and the server's descriptions say why."""

    def __init__(self, status: int, descriptions: list[str]) -> None:
        super().__init__(*descriptions)
        self.status = status
