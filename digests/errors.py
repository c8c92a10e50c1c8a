"""The one way a digest fails to go out: :class:`SendFailed`."""

from __future__ import annotations


class SendFailed(Exception):
    """A digest (email or chat message) could not be delivered.

    ``permanent`` says that trying again cannot help (a 5xx refusal, a blocked chat); otherwise
    the ledger schedules another attempt with backoff."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
