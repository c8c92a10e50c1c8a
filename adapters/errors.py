"""carbot's exceptions, in one place. This module imports nothing of carbot's, so every package
may use it: the channel adapters, ``digests``, ``prompts`` and the app.

Channels and mail share one model of a failed send, :class:`DeliveryError`: ``permanent`` says
whether trying again could ever help, ``retry_after`` how long the platform asked to wait.
Adapters wrap SDK and driver errors at their edge into these, so the core never sees
``telegram.error.Forbidden`` or ``slack_sdk.errors.SlackApiError``.
"""

from __future__ import annotations


class CarbotError(Exception):
    """Base of carbot's own errors."""


# ── sending and receiving ─────────────────────────────────────────────────────────────────


class DeliveryError(CarbotError):
    """Sending failed. ``permanent`` says whether trying again could ever help.

    Permanent: the user blocked the bot, the Slack user was deleted, the chat no longer exists.
    Transient: a timeout, a 5xx, a rate limit (``retry_after`` seconds, when the platform said).
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class SlackError(DeliveryError):
    """A Slack Web API error; ``code`` is Slack's error string (``user_not_found``…)."""

    def __init__(self, message: str, *, code: str, permanent: bool) -> None:
        super().__init__(message, permanent=permanent)
        self.code = code


class SendFailed(DeliveryError):
    """A digest email could not be delivered (SMTP, or the outbox folder): the ledger schedules
    another attempt with backoff, unless it is ``permanent`` (a 5xx refusal)."""


class DownloadFailed(DeliveryError):
    """A file someone sent could not be fetched from the platform; the event is tried again."""


class CredentialError(CarbotError):
    """A platform refused the app's own credentials (Teams: a wrong id, secret or tenant)."""


class FileTooLarge(CarbotError):
    """A file turned out bigger than the limit while it was being downloaded."""


class BodyTooLarge(CarbotError):
    """Raised to the app from ``receive`` once a streamed body passes its limit."""


class UnreadableUpdate(CarbotError, ValueError):
    """A Telegram update that cannot be read. ``update_id`` is None when even that is missing."""

    def __init__(self, update_id: int | None, error: str) -> None:
        super().__init__(f"Telegram update {update_id} could not be read ({error})")
        self.update_id = update_id
        self.error = error


class NotCommittedYet(CarbotError):
    """Raised by a Slack listener whose work has not committed within the ack budget: Bolt then
    answers Slack with a failure (HTTP 500; no Socket Mode ack), and Slack tries again."""


# ── what people and admins ask for ────────────────────────────────────────────────────────


class UsageError(CarbotError):
    """A person or admin asked for something that cannot be done; the message says why."""


class NotFound(CarbotError):
    """The thing asked for does not exist, or the asker may not know that it does."""


class ReportNotFound(CarbotError, LookupError):
    """No such project or event, or the project does not take part, or the viewer may not see it."""


class NoSuchDate(CarbotError, ValueError):
    """The words name a day no calendar has: "31 April", "29 February" in 2027, "2027-02-30"."""

    def __init__(self, shown: str) -> None:
        super().__init__(f"there is no {shown}")
        self.shown = shown


class StudyError(CarbotError):
    """A study file is invalid. ``problems`` holds every problem, each with its field path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the study file")
        self.problems = problems


class PromptLibraryError(CarbotError, ValueError):
    """The library (or a study's prompts) is invalid; ``problems`` lists each, with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class CodebookError(UsageError):
    """A codebook file that cannot be imported; the message names the file and line."""


class UnreadableProject(CarbotError, ValueError):
    """The file is not a REFI-QDA project at all (not a zip, no ``project.qde``, not XML)."""


# ── carbot's own machinery ────────────────────────────────────────────────────────────────


class IllegalMove(CarbotError, ValueError):
    """A delivery move the table does not declare: a bug in the caller, never a race."""


class RetentionLeftovers(CarbotError, RuntimeError):
    """A retention run found data older than its period still there after deleting."""


class PdfUnavailable(CarbotError, RuntimeError):
    """No headless Chromium here to print the PDF with."""
