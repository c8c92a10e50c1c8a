"""Block Kit for carbot's Slack messages and the answer modal.

Button values carry what the core needs back, built by :func:`adapters.actions.pack`
(``<delivery id>|<value>``), so a tap is matched to its prompt without any lookup in the
adapter; buttons sent before that carry ``{"d": delivery_id, "v": value}``, still read, and an
*Answer* button sent before it carries only its delivery id (:func:`read_answer_button`).
"""

from __future__ import annotations

import json
from typing import Any

import adapters.actions as actions
from adapters.base import Choice, OutboundPrompt, OutboundText
from adapters.numbers import json_int, strict_id

CHOICE_ACTION = "carbot_choice"  # action ids are CHOICE_ACTION + "_<n>" (unique in a block)
ANSWER_ACTION = "carbot_answer"
ANSWER_VIEW = "carbot_answer"
ANSWER_BLOCK = "answer"
ANSWER_INPUT = "text"
SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text made safe for mrkdwn: no accidental mentions, links or formatting from ``<>&``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section_block(text: str) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(escape(text), SECTION_LIMIT)},
    }


def context_block(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(escape(text), 300)}]}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": _clip(label, BUTTON_TEXT_LIMIT), "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def choice_value(value: str, delivery_id: int | None = None) -> str:
    """A button's value for ``value`` (answering ``delivery_id``), within Slack's limit."""
    return actions.pack(value, delivery_id, limit=actions.SLACK_LIMIT, in_bytes=False)


def read_answer_button(value: str | None) -> actions.Tap | None:
    """What an *Answer* button carried: ``<delivery id>|answer:own-words``, or (sent before
    :func:`adapters.actions.pack` was used for it) the bare delivery id."""
    delivery_id = strict_id(value or "")
    if delivery_id is not None:
        return actions.Tap(actions.encode(actions.Write()), delivery_id)
    return actions.unpack(value)


def _choice_buttons(choices: tuple[Choice, ...], delivery_id: int | None) -> list[Block]:
    return [
        _button(f"{CHOICE_ACTION}_{n}", c.label, choice_value(c.value, delivery_id))
        for n, c in enumerate(choices[:24])
    ]


def prompt_blocks(prompt: OutboundPrompt) -> list[Block]:
    """A prompt: where it comes from, the question, its buttons and an "Answer" button."""
    blocks: list[Block] = []
    lead = "Reminder" if prompt.reminder else None
    context = " · ".join(part for part in (lead, prompt.context) if part)
    if context:
        blocks.append(context_block(context))
    blocks.append(section_block(prompt.text))
    elements = _choice_buttons(prompt.choices, prompt.delivery_id)
    if prompt.kind in ("text", "evidence"):
        answer = choice_value(actions.encode(actions.Write()), prompt.delivery_id)
        elements.append(_button(ANSWER_ACTION, "Answer", answer, "primary"))
    if elements:
        blocks.append(
            {"type": "actions", "block_id": f"prompt_{prompt.delivery_id}", "elements": elements}
        )
    hint = (
        "Reply here or in the thread — a photo or file counts too."
        if prompt.kind == "evidence"
        else "Tap a button, or reply here in your own words."
        if prompt.choices
        else "Reply here, or use Answer for a longer note."
    )
    blocks.append(context_block(hint))
    return blocks


def text_blocks(message: OutboundText) -> list[Block]:
    """A reply or notice, with its choices (consent, audience, project…) as buttons."""
    blocks = [section_block(message.text)]
    if message.choices:
        blocks.append({"type": "actions", "elements": _choice_buttons(message.choices, None)})
    return blocks


def answered_blocks(blocks: list[Block], label: str) -> list[Block]:
    """``blocks`` of a prompt or question with its buttons replaced by the answer given."""
    kept = [block for block in blocks if block.get("type") != "actions"]
    if kept and kept[-1].get("type") == "context" and kept[-1] is not blocks[0]:
        kept = kept[:-1]  # the "tap a button" hint no longer applies
    kept.append(context_block(f"✅ {label}"))
    return kept


def answer_modal(delivery_id: int, question: str, message_ref: str | None) -> Block:
    """The modal the "Answer" button opens; ``private_metadata`` names the delivery."""
    metadata = json.dumps({"d": delivery_id, "ref": message_ref}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": ANSWER_VIEW,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Your answer"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section_block(question),
            {
                "type": "input",
                "block_id": ANSWER_BLOCK,
                "label": {"type": "plain_text", "text": "In your own words"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ANSWER_INPUT,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def parse_modal_metadata(raw: str) -> tuple[int, str | None]:
    payload = json.loads(raw or "{}")
    delivery = json_int(payload.get("d")) if isinstance(payload, dict) else None
    if delivery is None:
        raise ValueError("the modal names no delivery")
    ref = payload.get("ref")
    return delivery, ref if isinstance(ref, str) else None
