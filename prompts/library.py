"""The prompt library: load and check it, and choose the next prompt for a person.

The built-in library is the YAML files in ``prompts/library/``. A study can add prompts to it or
replace it (study option ``prompts: {mode: extend|replace, items: [...]}``). Choosing is
deterministic for a given seed: it rotates through the library (never the same prompt twice in a
row for a person), prefers prompts for the current phase, the project's themes and research
questions, and fills in a research question or the person's own earlier answer (carry-forward).
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adapters.errors import PromptLibraryError

log = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).with_name("library")
SETS_DIR = LIBRARY_DIR / "sets"  # prompt sets asked on an occasion, never in the rotation
RQ_PLACEHOLDER = "{research_question}"
QUOTE_PLACEHOLDER = "{quote}"
QUOTE_LIMIT = 160
RQ_LIMIT = 200
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,118}$"
EvidenceKind = Literal["photo", "file", "voice"]
# The sections of a context report, in the order its prompts are asked before an event.
ContextTopic = Literal["background", "status", "challenges", "evidence", "gaps"]
CONTEXT_TOPICS: tuple[ContextTopic, ...] = (
    "background",
    "status",
    "challenges",
    "evidence",
    "gaps",
)


class CarryForward(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from", pattern=KEY_PATTERN)
    template: str

    @field_validator("template")
    @classmethod
    def _quotes(cls, value: str) -> str:
        if QUOTE_PLACEHOLDER not in value:
            raise ValueError(f"the template must contain {QUOTE_PLACEHOLDER}")
        return value


class PromptItem(BaseModel):
    """One prompt of the library, as written in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN)
    kind: Literal["text", "scale", "choice", "evidence"]
    text: str = Field(min_length=3, max_length=600)
    phases: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    research_question: bool = False
    labels: dict[int, str] = Field(default_factory=dict)
    options: tuple[str, ...] = ()
    carry_forward: CarryForward | None = None
    evidence: tuple[EvidenceKind, ...] = ()
    # a context prompt: asked only before an event, never in the usual rotation
    context: ContextTopic | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PromptItem:
        has_placeholder = RQ_PLACEHOLDER in self.text
        if self.research_question and not has_placeholder:
            raise ValueError(f"research_question is true but the text has no {RQ_PLACEHOLDER}")
        if has_placeholder and not self.research_question:
            raise ValueError(f"the text has {RQ_PLACEHOLDER} but research_question is not true")
        if self.kind == "scale":
            if not self.labels or not set(self.labels) <= {1, 2, 3, 4, 5}:
                raise ValueError(
                    "a scale prompt needs labels for points 1 to 5, e.g. {1: ..., 5: ...}"
                )
            if 1 not in self.labels or 5 not in self.labels:
                raise ValueError("a scale prompt needs labels for at least 1 and 5")
        elif self.labels:
            raise ValueError("labels are only for scale prompts")
        if self.kind == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice prompt needs at least two options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("a choice prompt's options must differ")
            if any(not o.strip() or len(o) > 200 for o in self.options):
                raise ValueError("each option needs 1 to 200 characters")
        elif self.options:
            raise ValueError("options are only for choice prompts")
        if self.kind == "evidence" and not self.evidence:
            raise ValueError("an evidence prompt must say what it asks for: [photo, file, voice]")
        if self.kind != "evidence" and self.evidence:
            raise ValueError("evidence is only for evidence prompts")
        return self


class ResearchQuestionLike(Protocol):
    """What choosing needs of a research question (``storage.models.ResearchQuestion`` fits)."""

    key: str
    text: str


@dataclass(frozen=True)
class ChosenPrompt:
    """A prompt ready to send: text rendered, options as ``{"value", "label"}``."""

    key: str
    kind: str
    text: str
    options: list[dict[str, str]] = field(default_factory=list)
    research_question_key: str | None = None
    evidence: tuple[str, ...] = ()


def _hash(*parts: str) -> float:
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis when needed."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:—-") + "…"


def scale_options(item: PromptItem) -> list[dict[str, str]]:
    options = []
    for point in range(1, 6):
        label = item.labels.get(point)
        options.append(
            {"value": str(point), "label": f"{point} – {label}" if label else str(point)}
        )
    return options


@dataclass(frozen=True)
class Library:
    items: tuple[PromptItem, ...]

    def __post_init__(self) -> None:
        problems = _cross_check(self.items)
        if problems:
            raise PromptLibraryError(problems)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(item.key for item in self.items)

    def get(self, key: str) -> PromptItem | None:
        return next((item for item in self.items if item.key == key), None)

    def carry_forward_sources(self) -> dict[str, str]:
        """Carry-forward prompt key → the key of the prompt whose answer it quotes."""
        return {i.key: i.carry_forward.source for i in self.items if i.carry_forward is not None}

    def for_phase(self, phase_key: str | None) -> list[PromptItem]:
        """Prompts for ``phase_key`` (its own and the any-phase ones); all when none fit.
        Context prompts are never among them (they are asked only before an event)."""
        usual = [i for i in self.items if i.context is None]
        fitting = [i for i in usual if not i.phases or phase_key in i.phases]
        return fitting or usual

    def context_series(self) -> list[PromptItem]:
        """The context prompts, in the order they are asked before an event (by topic)."""
        found = [i for i in self.items if i.context is not None]
        return sorted(found, key=lambda item: CONTEXT_TOPICS.index(item.context or "gaps"))

    def context_topics(self) -> dict[str, ContextTopic]:
        """Context prompt key → its topic (the context report's section)."""
        return {i.key: i.context for i in self.items if i.context is not None}

    def choose(
        self,
        phase_key: str | None,
        research_questions: Sequence[ResearchQuestionLike],
        themes: Sequence[str],
        recent_keys: Sequence[str],
        carry_forward_answers: Mapping[str, str],
        seed: str,
        *,
        avoid: Collection[str] = (),
    ) -> ChosenPrompt:
        """The next prompt for a person.

        ``recent_keys``: the person's latest prompt keys, newest first (the newest is never
        chosen again while anything else fits). ``avoid``: other keys not to choose, e.g. the
        prompt already planned just after this one. ``carry_forward_answers``: source prompt
        key → the person's answer to quote; a carry-forward prompt is only chosen with one.
        """
        candidates = [
            item
            for item in self.for_phase(phase_key)
            if (not item.research_question or research_questions)
            and (item.carry_forward is None or carry_forward_answers.get(item.carry_forward.source))
        ]
        if not candidates:
            candidates = [
                i
                for i in self.items
                if not i.research_question and not i.carry_forward and i.context is None
            ] or list(self.items)
        excluded = set(avoid) | set(recent_keys[:1])
        candidates = [i for i in candidates if i.key not in excluded] or candidates
        wanted_themes = {t.lower() for t in themes}
        position = {key: index for index, key in reversed(list(enumerate(recent_keys)))}

        def score(item: PromptItem) -> float:
            staleness = min(position.get(item.key, len(recent_keys) + 4), 12)
            value = staleness * 1.0 + _hash(seed, item.key) * 1.5
            if item.phases:
                value += 1.0
            if wanted_themes & {t.lower() for t in item.themes}:
                value += 2.0
            if item.carry_forward is not None:
                value += 4.0
            if item.research_question:
                value += 0.5
            return value

        item = max(candidates, key=score)
        return self.render(item, research_questions, carry_forward_answers, seed)

    def render(
        self,
        item: PromptItem,
        research_questions: Sequence[ResearchQuestionLike],
        carry_forward_answers: Mapping[str, str],
        seed: str,
    ) -> ChosenPrompt:
        text = item.text
        rq_key: str | None = None
        if item.carry_forward is not None:
            answer = carry_forward_answers.get(item.carry_forward.source, "")
            if answer:
                quote = shorten(answer, QUOTE_LIMIT).replace("'", "’")
                text = item.carry_forward.template.replace(QUOTE_PLACEHOLDER, quote)
        if item.research_question and research_questions:
            ranked = sorted(research_questions, key=lambda rq: _hash(seed, "rq", rq.key))
            rq = ranked[0]
            rq_key = rq.key
            text = text.replace(RQ_PLACEHOLDER, shorten(rq.text, RQ_LIMIT).rstrip("?.") + "?")
            text = text.replace('?"?', '?"').replace("??", "?")
        if item.kind == "scale":
            options = scale_options(item)
        elif item.kind == "choice":
            options = [{"value": o, "label": o} for o in item.options]
        else:
            options = []
        return ChosenPrompt(
            key=item.key,
            kind=item.kind,
            text=text,
            options=options,
            research_question_key=rq_key,
            evidence=tuple(item.evidence),
        )


def neighbours(
    timeline: Sequence[tuple[datetime, str]], slot: datetime, keep: int = 30
) -> tuple[list[str], list[str]]:
    """The prompt keys before ``slot`` (newest first, at most ``keep``) and the one just after
    it, from a person's timeline in slot order: neither neighbour may be asked again."""
    index = bisect.bisect_left(timeline, (slot, ""))
    before = [key for _, key in reversed(timeline[max(0, index - keep) : index])]
    after = [key for when, key in timeline[index : index + 2] if when != slot][:1]
    return before, after


def _cross_check(items: Sequence[PromptItem]) -> list[str]:
    problems: list[str] = []
    if not items:
        problems.append("the prompt library is empty")
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            problems.append(f"prompt {item.key!r}: the key is used twice")
        seen.add(item.key)
    for item in items:
        source = item.carry_forward.source if item.carry_forward else None
        if source is not None and source not in seen:
            problems.append(
                f"prompt {item.key!r}: carry_forward.from names unknown prompt {source!r}"
            )
        if source == item.key:
            problems.append(f"prompt {item.key!r}: carry_forward.from cannot name itself")
    return problems


def parse_items(raw: Any, where: str) -> list[PromptItem]:
    """Check a YAML list of prompts; every problem is reported with its path."""
    if not isinstance(raw, list):
        raise PromptLibraryError([f"{where}: expected a list of prompts"])
    items: list[PromptItem] = []
    problems: list[str] = []
    for index, entry in enumerate(raw):
        label = f"{where}[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            label += f" ({entry['key']})"
        try:
            items.append(PromptItem.model_validate(entry))
        except ValidationError as exc:
            for error in exc.errors():
                path = ".".join(str(p) for p in error["loc"])
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.append(f"{label}{'.' + path if path else ''}: {message}")
    if problems:
        raise PromptLibraryError(problems)
    return items


@lru_cache(maxsize=1)
def builtin_items() -> tuple[PromptItem, ...]:
    items: list[PromptItem] = []
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items.extend(parse_items(data.get("prompts"), f"prompts/library/{path.name}: prompts"))
    return tuple(items)


def load_library(study_options: dict[str, Any] | None) -> Library:
    """The built-in library, extended or replaced by the study's ``prompts`` option."""
    base = builtin_items()
    spec = (study_options or {}).get("prompts")
    if spec is None:
        return Library(base)
    if not isinstance(spec, dict):
        raise PromptLibraryError(["prompts: expected {mode: extend|replace, items: [...]}"])
    unknown = sorted(set(spec) - {"mode", "items"})
    if unknown:
        raise PromptLibraryError([f"prompts: unknown field(s) {', '.join(unknown)}"])
    mode = spec.get("mode", "extend")
    if mode not in ("extend", "replace"):
        raise PromptLibraryError([f"prompts.mode: expected extend or replace, not {mode!r}"])
    items = parse_items(spec.get("items", []), "prompts.items")
    if mode == "replace":
        return Library(tuple(items))
    overridden = {item.key for item in items}
    return Library(tuple(i for i in base if i.key not in overridden) + tuple(items))


@lru_cache(maxsize=8)
def prompt_set(name: str) -> tuple[PromptItem, ...]:
    """A named prompt set of the library (``prompts/library/sets/<name>.yaml``), in its order:
    asked on an occasion (e.g. ``evaluation`` after an event), never chosen in the rotation."""
    path = SETS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise PromptLibraryError([f"no prompt set {name!r} (looked for {path.name})"])
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = parse_items(data.get("prompts"), f"prompts/library/sets/{path.name}: prompts")
    problems = _cross_check(items)
    if problems:
        raise PromptLibraryError(problems)
    return tuple(items)
