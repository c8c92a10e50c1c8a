"""The web chat channel object: the Channel protocol, live pushes, clean stop."""

from __future__ import annotations

import asyncio

from adapters.base import Channel, Choice, OutboundPrompt, OutboundText, Recipient
from adapters.webchat import Bubble, ChatHistory, WebChatChannel, identity_key


async def _nobody(_external_id: str) -> ChatHistory | None:
    return None


def _channel() -> WebChatChannel:
    return WebChatChannel(history=_nobody, secret_key="k", max_upload_bytes=1024, answer_limit=8000)


def test_it_is_a_channel_mounted_at_chat() -> None:
    channel = _channel()
    assert isinstance(channel, Channel)
    assert channel.name == "webchat"
    assert list(channel.mounts()) == ["/chat"]


def test_the_identity_key_is_a_sha256_and_never_the_token() -> None:
    key = identity_key("abc")
    assert len(key) == 64 and key != "abc"
    assert key == identity_key("abc")


async def test_texts_and_reminders_reach_every_open_page_of_that_person_only() -> None:
    channel = _channel()
    mine, other_tab, someone_else = (
        channel.subscribe("me"),
        channel.subscribe("me"),
        channel.subscribe("you"),
    )

    await channel.send_text(Recipient(1, "me"), OutboundText("Hi", (Choice("x", "X"),)))
    ref = await channel.send_prompt(
        Recipient(1, "me"), OutboundPrompt(5, "text", "Anything new?", reminder=True)
    )

    for queue in (mine, other_tab):
        first, second = queue.get_nowait(), queue.get_nowait()
        assert first is not None and first["choices"] == [{"value": "x", "label": "X"}]
        assert second is not None and second["text"] == "Reminder: Anything new?"
    assert someone_else.empty()
    assert ref.ref == "webchat:d5r"


async def test_stop_ends_every_open_event_stream() -> None:
    channel = _channel()
    queue = channel.subscribe("me")

    await channel.stop()

    assert await asyncio.wait_for(queue.get(), 1) is None
    assert channel.push("me", Bubble(id="t1", sender="bot", text="late")) == 0
