"""Limits that hold the same on every channel."""

from __future__ import annotations

# The longest answer, note or edit carbot keeps, in characters. Longer ones are not stored and
# not cut: the person is told the limit and how long theirs was. (Telegram's own messages stop
# at 4,096 characters and Slack's answer form at 3,000, so there it is never met; a Slack DM or
# the web chat can reach it. The web chat shows it with a live counter.)
ANSWER_LIMIT = 8000
