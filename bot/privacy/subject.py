"""Everything that identifies one person in carbot's store: the rows that are theirs, and the
strings (name, email, platform ids, the words they wrote) a scan looks for afterwards."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.throttle import address_digest
from storage.models import (
    Attachment,
    ChannelIdentity,
    Delivery,
    Digest,
    Person,
    Reflection,
    User,
)

# Shorter answers ("yes", "ok", "fine") are words anyone might write; looking for them would
# report other people's data as this person's. Longer ones are theirs.
MIN_TEXT_CHARS = 12


def normalise(value: str) -> str:
    """Text as compared by the scan: HTML entities decoded, spaces collapsed, case folded."""
    return " ".join(html.unescape(value).split()).casefold()


@dataclass
class Subject:
    """One person and the ids of everything that is theirs (read before anything is deleted)."""

    person_id: int
    key: str
    study_code: str
    name: str
    email: str | None
    identity_ids: list[int] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    webchat_links: int = 0
    reflection_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)
    digest_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    account_emails: list[str] = field(default_factory=list)  # their review accounts
    texts: list[str] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256)

    @property
    def ids(self) -> dict[str, list[int]]:
        """Row ids by table: a foreign key to any of these points at this person's data."""
        return {
            "people": [self.person_id],
            "channel_identities": self.identity_ids,
            "reflections": self.reflection_ids,
            "deliveries": self.delivery_ids,
            "digests": self.digest_ids,
            "users": self.user_ids,
        }

    def identifiers(self) -> dict[str, str]:
        """Exact tokens, each with what it is: key, email, platform ids, the digest tag."""
        found = {self.key: "their study-file key", f"person:{self.person_id}": "their person id"}
        found.update(dict.fromkeys(self.external_ids, "one of their chat account ids"))
        for address in self.emails:
            found[address] = "their email address"
            found[address_digest(address)] = "their email address (hashed, sign-in throttling)"
        return {value: label for value, label in found.items() if value}

    @property
    def emails(self) -> list[str]:
        return sorted({e for e in [self.email, *self.account_emails] if e})

    def phrases(self) -> dict[str, str]:
        """Free text, normalised: the person's full name and what they wrote."""
        found = {normalise(self.name): "their name"} if len(self.name.strip()) >= 3 else {}
        for text in self.texts:
            cleaned = normalise(text)
            if len(cleaned) >= MIN_TEXT_CHARS:
                found.setdefault(cleaned, "words from one of their answers")
        return found

    def matcher(self) -> Matcher:
        return Matcher(self.identifiers(), self.phrases())


class Matcher:
    """Finds a person's identifiers (as whole tokens) and phrases (anywhere) in a string.

    It says *what kind* of thing it found ("their name", "words from one of their answers"),
    never the words themselves: a report must not show anyone a private answer."""

    def __init__(self, identifiers: dict[str, str], phrases: dict[str, str]) -> None:
        self.identifiers = {value.casefold(): label for value, label in identifiers.items()}
        self.phrases = phrases
        parts = [re.escape(value) for value in sorted(identifiers, key=len, reverse=True)]
        self._tokens = (
            re.compile(r"(?<![\w.-])(?:" + "|".join(parts) + r")(?![\w-])", re.IGNORECASE)
            if parts
            else None
        )

    def replace(self, value: str, replacement: str) -> str:
        """``value`` with every identifier replaced (audit entries keep a study code instead)."""
        return self._tokens.sub(replacement, value) if self._tokens is not None else value

    def found(self, value: str, *, own_words: bool = False) -> list[str]:
        """What of this person ``value`` contains, by kind (each kind once).
        ``own_words``: ``value`` is someone's own answer, so one that merely says the same as
        one of theirs (word for word, the whole of it) is not a quote of them."""
        hits: list[str] = []
        if self._tokens is not None:
            for match in self._tokens.finditer(value):
                hits.append(self.identifiers.get(match.group(0).casefold(), "an identifier"))
        cleaned = normalise(value)
        for phrase, label in self.phrases.items():
            if phrase in cleaned and not (own_words and phrase == cleaned):
                hits.append(label)
        return list(dict.fromkeys(hits))


async def gather(session: AsyncSession, person: Person) -> Subject:
    """The :class:`Subject` for ``person``, read from the database."""
    subject = Subject(
        person_id=person.id,
        key=person.key,
        study_code=person.study_code,
        name=person.name,
        email=person.email,
    )
    identities = list(
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person.id)
            .order_by(ChannelIdentity.id)
        )
    )
    subject.identity_ids = [i.id for i in identities]
    subject.external_ids = [i.external_id for i in identities]
    subject.webchat_links = sum(1 for i in identities if i.channel == "webchat")
    reflections = list(
        await session.scalars(
            select(Reflection).where(Reflection.person_id == person.id).order_by(Reflection.id)
        )
    )
    subject.reflection_ids = [r.id for r in reflections]
    subject.texts = [r.text for r in reflections if r.text]
    subject.delivery_ids = list(
        await session.scalars(select(Delivery.id).where(Delivery.person_id == person.id))
    )
    recipients = [f"person:{person.id}"] + ([person.email] if person.email else [])
    subject.digest_ids = list(
        await session.scalars(
            select(Digest.id).where(
                or_(Digest.person_id == person.id, Digest.recipient.in_(recipients))
            )
        )
    )
    subject.user_ids = list(
        await session.scalars(select(User.id).where(User.person_id == person.id))
    )
    if subject.reflection_ids:
        rows = await session.execute(
            select(Attachment.path, Attachment.sha256).where(
                Attachment.reflection_id.in_(subject.reflection_ids)
            )
        )
        subject.evidence = [(path, sha) for path, sha in rows]
    return subject
