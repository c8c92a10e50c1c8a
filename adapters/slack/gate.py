"""The door in front of Bolt on the HTTP routes: a request that is not a well-formed, signed
Slack request is refused here with a 4xx and one log line, before Bolt parses it.

Bolt reads a request's body as UTF-8 and its timestamp header as an integer before it checks the
signature, so junk (``X-Slack-Request-Timestamp: soon``, bytes that are not UTF-8, a JSON body
cut short) made it raise and answer 500 with a traceback in the log. Here the headers are read
strictly, the signature is checked in constant time, and only then is the body parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

MAX_SKEW = 5 * 60  # seconds; Slack's own rule for a replayed request
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def check_request(
    headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None
) -> Refusal | None:
    """Why this request is not one Slack signed (None when it is, and its body parses)."""
    stamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not _TIMESTAMP.fullmatch(stamp):
        return Refusal(401, "a missing or malformed timestamp header")
    if abs((time.time() if now is None else now) - int(stamp)) > MAX_SKEW:
        return Refusal(401, "a stale timestamp")
    if not _SIGNATURE.fullmatch(signature):
        return Refusal(401, "a missing or malformed signature header")
    expected = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest("v0=" + expected.hexdigest(), signature):
        return Refusal(401, "a wrong signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "a body that is not UTF-8")
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or text.startswith("{"):
        return None if _is_object(text) else Refusal(400, "a body that is not a JSON object")
    payload = parse_qs(text).get("payload")
    if payload and not _is_object(payload[0]):
        return Refusal(400, "a payload that is not a JSON object")
    return None


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def log_refusal(path: str, refusal: Refusal) -> None:
    log.warning(
        "Refused a request to %s: %s (HTTP %s)",
        path,
        refusal.reason,
        refusal.status,
        extra={"action": "slack.refused", "status": refusal.status},
    )
