"""A prompt's options, read once into a typed form, and how an answer reads everywhere.

A delivery keeps the options of its prompt as it was sent (``Delivery.prompt_options``, JSON:
``[{"value": "4", "label": "Quite well"}, …]``). :func:`prompt_options` reads that JSON, and
refuses anything malformed without failing; :func:`answer_label` gives an answer as people read
it — "3 — Quite well" for a scale, the option's label for a choice, otherwise its words — in every
channel, the App Home, digests, review pages and exports alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCALE_POINTS = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Option:
    """One of a prompt's options or scale points: the value stored, and the words shown."""

    value: str
    label: str


def prompt_options(raw: Any) -> tuple[Option, ...]:
    """The options in a delivery's ``prompt_options`` JSON; entries without a value are left out,
    and a missing label is the value."""
    if not isinstance(raw, list):
        return ()
    found = []
    for option in raw:
        if isinstance(option, dict) and option.get("value") is not None:
            value = str(option["value"])
            found.append(Option(value, str(option.get("label") or value)))
    return tuple(found)


def option_for(options: tuple[Option, ...], value: object) -> Option | None:
    """The option whose value is ``value`` (compared as text), if any."""
    wanted = str(value)
    return next((option for option in options if option.value == wanted), None)


def scale_shown(value: str, label: str) -> str:
    """A scale point as a person reads it: "3 — Quite well", or just "3" when the point has no
    words; a label that already starts with its number ("1 – Not at all") is shown as it is."""
    label = label.strip()
    if not label or label == value:
        return value
    if label.startswith(value) and not label[len(value) :][:1].isalnum():
        return label
    return f"{value} — {label}"


def answer_label(
    kind: str,
    options: tuple[Option, ...] = (),
    *,
    scale_value: int | None = None,
    choice: str | None = None,
    text: str | None = None,
) -> str:
    """An answer as everyone reads it: "4 — Quite well" for a scale point, the option's label
    for a choice, otherwise its words ("" when it has none, e.g. only files)."""
    if kind == "scale" and scale_value is not None:
        value = str(scale_value)
        found = option_for(options, value)
        return scale_shown(value, found.label if found else "")
    if kind == "choice" and choice:
        found = option_for(options, choice)
        return found.label if found else choice
    return text or ""


def reflection_label(reflection: Any, raw_options: Any = None) -> str:
    """:func:`answer_label` of a stored reflection (``kind``, ``scale_value``, ``choice``,
    ``text``), with the options of the prompt it answered as stored on its delivery."""
    return answer_label(
        reflection.kind,
        prompt_options(raw_options),
        scale_value=reflection.scale_value,
        choice=reflection.choice,
        text=reflection.text,
    )
