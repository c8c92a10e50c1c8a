"""Adaptive Cards for prompts and replies, built with the SDK's card models.

A prompt's card shows its project and phase, the question, and its controls: the 1–5 scale or
the choices as ``Action.Submit`` buttons, a text box with *Send* for a text answer, or a line
saying how to send evidence. Every button's data carries its value, built by
:func:`adapters.actions.pack` with the prompt it answers (*Send* carries the action
``Write``)::

    {"carbot": "12|4", "q": "How well…", "ctx": "Family hub…"}

Teams hands that back (with the text box's ``answer``) in the message it posts when the person
taps; the question and context ride along so the card can be redrawn with the answer on it
(``updateActivity``) without carbot keeping the card anywhere. A reply's buttons (consent, the
audience, which project) carry ``{"carbot": "|consent:yes", "label": "I agree"}``.
"""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    SubmitAction,
    TextBlock,
    TextInput,
)

import adapters.actions as actions
from adapters.base import Choice, OutboundPrompt, OutboundText

VERSION = "1.5"  # what Teams renders on desktop, web and mobile
ANSWER_INPUT = "answer"
KEEP_QUESTION = 400  # characters of the question carried in a button's data
EVIDENCE_HINT = "Send a photo, a voice note or a file here in this chat to answer."
TEXT_PLACEHOLDER = "Type your answer"


def teams_text(text: str) -> str:
    """``text`` with its line breaks kept: Teams' markdown (in messages and in a card's text)
    joins lines that are one newline apart, so each becomes a paragraph of its own."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n\n".join(line for line in lines if line.strip()) if len(lines) > 1 else text


def _text(text: str, **style: Any) -> TextBlock:
    return TextBlock(text=teams_text(text), wrap=True, **style)


def _head(context: str | None, reminder: bool) -> list[CardElement]:
    blocks: list[CardElement] = []
    if context:
        blocks.append(_text(context, size="Small", is_subtle=True))
    if reminder:
        blocks.append(_text("Reminder", weight="Bolder", color="Accent"))
    return blocks


def button_value(value: str, delivery_id: int | None = None) -> str:
    """A card button's value for ``value`` (answering ``delivery_id``)."""
    return actions.pack(value, delivery_id, limit=actions.CARD_LIMIT, in_bytes=False)


def _button_title(choice: Choice, scale: bool) -> str:
    return choice.value if scale else choice.label


def prompt_card(prompt: OutboundPrompt, original: str | None = None) -> AdaptiveCard:
    """The card for ``prompt``; a reminder also quotes what it reminds of (``original``)."""
    body = _head(prompt.context, prompt.reminder)
    if prompt.reminder and original:
        body.append(_text(f"Earlier: {original}", is_subtle=True))
    body.append(_text(prompt.text, size="Medium", weight="Bolder"))
    keep = {"q": prompt.text[:KEEP_QUESTION], "ctx": prompt.context or ""}
    answers = prompt.delivery_id
    buttons: list[SubmitAction] = []
    scale = prompt.kind == "scale"
    if scale and prompt.choices:
        first, last = prompt.choices[0], prompt.choices[-1]
        body.append(
            _text(f"{first.value} = {first.label} · {last.value} = {last.label}", is_subtle=True)
        )
    if prompt.kind in ("scale", "choice"):
        buttons = [
            SubmitAction(
                title=_button_title(choice, scale),
                data={"carbot": button_value(choice.value, answers), **keep},
            )
            for choice in prompt.choices
        ]
    elif prompt.kind == "text":
        body.append(TextInput(id=ANSWER_INPUT, is_multiline=True, placeholder=TEXT_PLACEHOLDER))
        write = button_value(actions.encode(actions.Write()), answers)
        buttons = [SubmitAction(title="Send", data={"carbot": write, **keep})]
    else:
        body.append(_text(EVIDENCE_HINT, is_subtle=True))
    return AdaptiveCard(version=VERSION, body=body, actions=buttons or None)


def answered_card(question: str | None, context: str | None, label: str) -> AdaptiveCard:
    """An answered prompt: its question and the answer, no controls left to tap."""
    body = _head(context, False)
    if question:
        body.append(_text(question, size="Medium", weight="Bolder"))
    body.append(_text(f"✓ {label}", color="Good"))
    return AdaptiveCard(version=VERSION, body=body)


def reply_card(message: OutboundText) -> AdaptiveCard:
    """A reply with buttons (consent, the audience, which project)."""
    buttons = [
        SubmitAction(
            title=choice.label,
            data={"carbot": button_value(choice.value), "label": choice.label},
        )
        for choice in message.choices
    ]
    return AdaptiveCard(version=VERSION, body=[_text(message.text)], actions=buttons)


def chosen_card(text: str | None, label: str) -> AdaptiveCard:
    """A reply whose button was tapped: the text, and what was chosen."""
    body: list[CardElement] = [_text(text)] if text else []
    body.append(_text(f"✓ {label}", color="Good"))
    return AdaptiveCard(version=VERSION, body=body)
