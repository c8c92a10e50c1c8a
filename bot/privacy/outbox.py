"""The digest emails kept as ``.eml`` files (no SMTP server): which ones hold a person's words,
and how erasure treats them.

A digest *sent to* the erased person is deleted. A digest sent to someone else that quoted them
(their words, their name, one of their photos) is kept without its body: the headers stay, so
the record that a digest went out stays, and the body says that its content was removed.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from bot.privacy.subject import MIN_TEXT_CHARS, Matcher, Subject, normalise
from digests.mail import safe_name
from storage.files import write_private

REMOVED_BODY = (
    "The content of this digest was removed on {day} because a participant asked for "
    "everything they shared to be deleted. The rest of the week's digest is not kept.\n"
)
KEPT_HEADERS = ("From", "To", "Date", "Message-ID")


@dataclass(frozen=True)
class OutboxHit:
    path: Path
    delete: bool  # True: sent to the person; False: quotes them (the body is removed)
    found: list[str]


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def contents(message: EmailMessage) -> tuple[str, set[str]]:
    """All the text of ``message`` (headers and text parts, decoded) and the sha256 of every
    other part (photos embedded inline)."""
    texts = [f"{name}: {value}" for name, value in message.items()]
    hashes: set[str] = set()
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text":
            texts.append(str(part.get_content()))
        else:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                hashes.add(hashlib.sha256(payload).hexdigest())
    return "\n".join(texts), hashes


def _addressed_to(subject: Subject, path: Path, message: EmailMessage) -> bool:
    if subject.email and subject.email.casefold() in str(message["To"] or "").casefold():
        return True
    if subject.email and safe_name(subject.email) in path.name:
        return True
    return any(path.stem.endswith(f"_{digest_id}") for digest_id in subject.digest_ids)


def check(subject: Subject, matcher: Matcher, path: Path) -> OutboxHit | None:
    """Whether the email at ``path`` is the person's (sent to them) or holds something of theirs."""
    message = read(path)
    if _addressed_to(subject, path, message):
        return OutboxHit(path, True, ["addressed to them"])
    text, hashes = contents(message)
    found = matcher.found(text)
    if hashes & {sha for _path, sha in subject.evidence}:
        found.append("one of their evidence files")
    return OutboxHit(path, False, found) if found else None


def find(subject: Subject, matcher: Matcher, outbox_dir: Path) -> list[OutboxHit]:
    """The outbox files that are the person's or hold something of theirs."""
    folder = Path(outbox_dir)
    if not folder.is_dir():
        return []
    hits = [check(subject, matcher, path) for path in sorted(folder.glob("*.eml"))]
    return [hit for hit in hits if hit is not None]


def without_body(message: EmailMessage, now: datetime) -> EmailMessage:
    """The same message's headers with a body saying its content was removed."""
    cut = EmailMessage()
    for name in KEPT_HEADERS:
        if message[name] is not None:
            cut[name] = str(message[name])
    cut["Subject"] = "carbot digest (content removed)"
    cut.set_content(REMOVED_BODY.format(day=f"{now:%d %B %Y}"))
    return cut


def apply(hits: list[OutboxHit], now: datetime) -> tuple[int, int]:
    """Delete or cut each file; (deleted, cut)."""
    deleted = cut = 0
    for hit in hits:
        if hit.delete:
            hit.path.unlink(missing_ok=True)
            deleted += 1
            continue
        replacement = without_body(read(hit.path), now)
        write_private(hit.path, bytes(replacement))
        cut += 1
    return deleted, cut


def cut_quotes(
    outbox_dir: Path, texts: list[str], evidence: list[tuple[str, str]], now: datetime
) -> int:
    """Cut the body of every outbox email quoting one of ``texts`` (or embedding one of the
    ``evidence`` files); returns how many. Words shorter than the scan's minimum are too common
    to attribute, and are left."""
    phrases = {
        normalise(text): "words from the answer"
        for text in texts
        if len(normalise(text)) >= MIN_TEXT_CHARS
    }
    if not phrases and not evidence:
        return 0
    subject = Subject(0, "", "", "", None, texts=texts, evidence=evidence)
    hits = find(subject, Matcher({}, phrases), outbox_dir)
    # never delete here: a digest sent to someone else keeps its headers
    _deleted, cut = apply([OutboxHit(h.path, False, h.found) for h in hits], now)
    return cut
