"""The Slack adapter's own signal to Bolt."""

from __future__ import annotations


class NotCommittedYet(Exception):
    """Raised by a listener whose work has not committed within the ack budget: Bolt then
    answers Slack with a failure (HTTP 500; no Socket Mode ack), and Slack tries again."""
