"""What the Telegram channel says by itself, and how prompts become messages with buttons.

Everything a person reads that does not come from the conversation core is here, so it can be
read and changed in one place. Messages are plain text (no parse mode): nothing a person wrote
ever needs escaping.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import adapters.actions as actions
from adapters.base import Choice, OutboundPrompt

# Telegram refuses messages over 4096 characters (and callback data over 64 bytes: see
# adapters.actions, which builds every button's data).
TEXT_LIMIT = 4096

GROUP_CHAT = (
    "Hello! I only talk with people one to one, so that what you tell me stays between us. "
    "Please send me a private message{mention}."
)
GROUP_BUTTON = "I only answer in a private chat with you."
UNREADABLE_BUTTON = actions.UNREADABLE
UNSUPPORTED_MESSAGE = (
    "I can read text, photos, files and voice notes. Please send your answer as one of those."
)
EDITED = (
    "I keep what you first sent, so editing a message here doesn't change it. "
    "To change your last answer, send /edit followed by the new text."
)
FAILED = "Sorry, something went wrong on my side and I could not take that in. Please try again."

PROMPT_HINTS = {
    "text": "Reply with a few words.",
    "scale": "Tap a number below.",
    "choice": "Tap one of the options below.",
    "evidence": "Send a photo, a file or a voice note (or a few words).",
}
REMINDER_PREFIX = "Reminder: "
CHOSEN = "✓ {label}"


def sign_up_link(bot_username: str, code: str) -> str:
    """The deep link that signs a person up: Telegram opens the bot and sends ``/start <code>``."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def group_chat_text(bot_username: str | None) -> str:
    mention = f" (@{bot_username.lstrip('@')})" if bot_username else ""
    return GROUP_CHAT.format(mention=mention)


def prompt_text(prompt: OutboundPrompt) -> str:
    """The message body of a prompt: its context line, the question, and how to answer."""
    parts = []
    if prompt.context:
        parts.append(prompt.context)
    question = f"{REMINDER_PREFIX}{prompt.text}" if prompt.reminder else prompt.text
    parts.append(question)
    parts.append(PROMPT_HINTS[prompt.kind])
    if prompt.kind == "scale" and any(c.label != c.value for c in prompt.choices):
        parts.append("\n".join(_scale_line(c) for c in prompt.choices))
    return "\n\n".join(parts)


def _scale_line(choice: Choice) -> str:
    """A scale point as the prompt's text lists it ("4 — Quite well"): the buttons show only
    the numbers, so that all five fit in one row on a phone."""
    label = choice.label.strip()
    if label.startswith(choice.value) and not label[len(choice.value) :][:1].isalnum():
        return label
    return f"{choice.value} — {label}" if label and label != choice.value else choice.value


def chosen_text(original: str, label: str) -> str:
    """A prompt's text after it was answered: the buttons go, the choice is shown under it."""
    return f"{original}\n\n{CHOSEN.format(label=label)}"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces Telegram accepts, cut at paragraph, then line, then word boundaries."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = next(
            (found for sep in ("\n\n", "\n", " ") if (found := window.rfind(sep)) > 0), limit
        )
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [piece for piece in pieces if piece] or [""]


def keyboard(
    delivery_id: int | None, choices: tuple[Choice, ...], *, numbers: bool = False
) -> InlineKeyboardMarkup | None:
    """Inline buttons: short labels in one row, longer ones one per row. With ``numbers`` (a
    1–5 scale, whose words are in the message) each button shows just its value."""
    if not choices:
        return None
    shown = [choice.value if numbers else choice.label for choice in choices]
    buttons = [
        InlineKeyboardButton(label, callback_data=actions.pack(choice.value, delivery_id))
        for label, choice in zip(shown, choices, strict=True)
    ]
    if all(len(label) <= 4 for label in shown) and len(choices) <= 8:
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])
