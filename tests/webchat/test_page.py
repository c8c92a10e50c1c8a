"""The web chat page over HTTP: personal links, the nonce, uploads, history after a restart."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.base import OutboundPrompt, Recipient
from adapters.webchat import WebChatChannel, identity_key
from bot.channels.webchat import issue_webchat_link, revoke_webchat, webchat_channel
from bot.core.conversation import Conversation
from bot.core.limits import ANSWER_LIMIT
from bot.services import Services
from bot.web.app import create_app
from storage.models import Attachment, Delivery, Person, Reflection
from tests.support.participants import SCALE, make_delivery, make_person, make_project


@dataclass
class Page:
    services: Services
    channel: WebChatChannel
    client: httpx.AsyncClient
    token: str
    person: Person
    delivery: Delivery

    @property
    def url(self) -> str:
        return f"/chat/{self.token}"

    async def nonce(self) -> str:
        html = (await self.client.get(self.url)).text
        found = re.search(r'data-nonce="([^"]+)"', html)
        assert found is not None
        return found.group(1)

    async def send(self, event_id: str = "evt-00000001", **fields: str) -> httpx.Response:
        data = {"nonce": await self.nonce(), "event_id": event_id, **fields}
        return await self.client.post(f"{self.url}/send", data=data)

    async def count(self, model: type) -> int:
        from sqlalchemy import func, select

        async with self.services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def page(services: Services) -> AsyncIterator[Page]:
    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
        token = await issue_webchat_link(session, person, now=now)
        delivery = await make_delivery(
            session,
            person,
            rows,
            sent_at=now - timedelta(minutes=5),
            kind="scale",
            text="How well did the hub meeting go?",
            options=SCALE,
            message_ref=f"webchat:d{0}",
        )
    channel = webchat_channel(services)
    await channel.start(Conversation(services).handle)
    app = create_app(services, [channel])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Page(services, channel, client, token, person, delivery)
    await channel.stop()


async def test_the_personal_link_shows_the_open_prompt_with_its_scale_buttons(page: Page) -> None:
    response = await page.client.get(page.url)

    assert response.status_code == 200
    assert "Hello Morag" in response.text
    assert "How well did the hub meeting go?" in response.text
    assert 'data-value="4"' in response.text and "Quite well" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_an_unknown_or_revoked_link_is_not_found(page: Page) -> None:
    assert (await page.client.get("/chat/not-a-real-token-at-all-0000")).status_code == 404

    async with page.services.sessions() as session, session.begin():
        person = await session.get(Person, page.person.id)
        assert person is not None
        await revoke_webchat(session, person, now=datetime.now(UTC))

    assert (await page.client.get(page.url)).status_code == 404
    assert (await page.client.get(f"{page.url}/history")).status_code == 404


async def test_only_the_hash_of_the_token_is_stored(page: Page) -> None:
    from sqlalchemy import select

    from storage.models import ChannelIdentity

    async with page.services.sessions() as session:
        keys = list(await session.scalars(select(ChannelIdentity.external_id)))
    assert identity_key(page.token) in keys
    assert page.token not in keys


async def test_a_post_without_the_pages_nonce_is_refused(page: Page) -> None:
    response = await page.client.post(
        f"{page.url}/send", data={"event_id": "evt-00000001", "text": "forged"}
    )

    assert response.status_code == 403
    assert await page.count(Reflection) == 0


async def test_tapping_a_scale_value_stores_the_answer_and_closes_the_prompt(page: Page) -> None:
    response = await page.send(choice="4", delivery_id=str(page.delivery.id))

    body = response.json()
    assert response.status_code == 200
    assert body["answered"] == {"delivery_id": page.delivery.id, "label": "4 — Quite well"}
    assert body["replies"][0]["text"].startswith("Saved to Family hub approach · Exploring")
    assert await page.count(Reflection) == 1
    html = (await page.client.get(page.url)).text
    assert 'data-value="4"' not in html  # the prompt is closed on reload
    assert "4 — Quite well" in html


@pytest.mark.parametrize("delivery", ["2147483648", "99999999999999999999999", "²", "٣", "+1"])
async def test_a_post_naming_an_impossible_delivery_id_is_refused_before_the_database(
    page: Page, delivery: str
) -> None:
    response = await page.send(choice="4", delivery_id=delivery)

    assert response.status_code == 400
    assert "reload the page" in response.json()["error"]
    assert await page.count(Reflection) == 0


async def test_the_page_states_the_answer_limit_next_to_the_box_for_screen_readers_too(
    page: Page,
) -> None:
    html = (await page.client.get(page.url)).text
    assert f'data-answer-limit="{ANSWER_LIMIT}"' in html
    assert 'aria-describedby="text-count"' in html
    assert re.search(r'<p id="text-count"[^>]*aria-live="polite"[^>]*>Up to 8,000 characters', html)
    assert "maxlength" not in html  # a pasted answer is never cut short by the browser


async def test_an_answer_over_the_limit_is_not_stored_or_cut_and_the_reply_says_so(
    page: Page,
) -> None:
    response = await page.send(text="w" * 9000)

    assert response.status_code == 200
    [reply] = response.json()["replies"]
    assert "9,000 characters" in reply["text"] and "8,000" in reply["text"]
    assert await page.count(Reflection) == 0


async def test_a_message_far_over_the_limit_gets_a_413_that_states_the_limit(page: Page) -> None:
    response = await page.send(text="w" * 40_000)

    assert response.status_code == 413
    assert "8,000 characters" in response.json()["error"]
    assert await page.count(Reflection) == 0


async def test_a_message_the_core_fails_on_gets_a_plain_500_and_a_log_line_without_its_words(
    page: Page, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(message: object) -> object:
        raise RuntimeError("INSERT failed [parameters: ('my private words',)]")

    page.channel.handler = broken  # type: ignore[assignment]
    caplog.set_level(logging.DEBUG)
    response = await page.send(text="my private words")

    assert response.status_code == 500
    assert "nothing was saved" in response.json()["error"]
    above_debug = [r for r in caplog.records if r.levelno > logging.DEBUG]
    [failed] = [r for r in above_debug if "web chat message failed" in r.getMessage()]
    assert "RuntimeError" in failed.getMessage() and failed.exc_info is None
    assert not any("my private words" in r.getMessage() for r in above_debug)


async def test_a_retried_post_is_stored_once(page: Page) -> None:
    first = await page.send("evt-retry-0001", text="We changed the room layout")
    second = await page.send("evt-retry-0001", text="We changed the room layout")

    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert second.json()["replies"] == []
    assert await page.count(Reflection) == 1


async def test_a_photo_upload_is_kept_as_evidence(page: Page) -> None:
    files = {"file": ("board.jpg", b"\xff\xd8\xff photo bytes", "image/jpeg")}
    data = {"nonce": await page.nonce(), "event_id": "evt-photo-001"}

    response = await page.client.post(f"{page.url}/send", data=data, files=files)

    assert response.status_code == 200
    assert await page.count(Attachment) == 1
    assert "board.jpg" in (await page.client.get(page.url)).text


async def test_an_oversized_upload_is_refused_with_413_and_nothing_is_stored(
    services: Services, page: Page
) -> None:
    page.channel.max_upload_bytes = 1024
    files = {"file": ("huge.jpg", b"x" * 4096, "image/jpeg")}
    data = {"nonce": await page.nonce(), "event_id": "evt-huge-0001"}

    response = await page.client.post(f"{page.url}/send", data=data, files=files)

    assert response.status_code == 413
    assert "too big" in response.json()["error"]
    assert await page.count(Reflection) == 0
    assert await page.count(Attachment) == 0
    assert not (services.settings.data_dir / "evidence").exists()


async def test_history_survives_a_restart_of_the_channel(services: Services, page: Page) -> None:
    await page.send(text="Before the restart")
    fresh = webchat_channel(services)
    await fresh.start(Conversation(services).handle)
    transport = httpx.ASGITransport(app=create_app(services, [fresh]))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        history = (await client.get(f"{page.url}/history")).json()["bubbles"]

    texts = [b["text"] for b in history]
    assert texts == ["How well did the hub meeting go?", "Before the restart"]


async def test_a_prompt_sent_while_the_page_is_open_arrives_live(page: Page) -> None:
    key = identity_key(page.token)
    queue = page.channel.subscribe(key)
    prompt = OutboundPrompt(delivery_id=7, kind="text", text="What surprised you?")

    ref = await page.channel.send_prompt(Recipient(1, key), prompt)

    bubble = await asyncio.wait_for(queue.get(), 1)
    assert bubble is not None and bubble["text"] == "What surprised you?"
    assert ref.ref == "webchat:d7"


async def test_someone_who_has_not_agreed_yet_sees_the_consent_question(page: Page) -> None:
    from sqlalchemy import delete

    from storage.models import ConsentRecord

    async with page.services.sessions() as session, session.begin():
        await session.execute(delete(ConsentRecord))

    html = (await page.client.get(page.url)).text
    assert "Before I keep anything you send" in html
    assert 'data-value="consent:yes"' in html

    response = await page.send(choice="consent:yes")
    assert "Who should see your answers" in response.json()["replies"][0]["text"]


async def test_the_history_query_works_on_every_database(any_services: Services) -> None:
    from bot.channels.webchat import chat_history

    now = datetime.now(UTC)
    async with any_services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Aileen Fraser", now=now)
        token = await issue_webchat_link(session, person, now=now)
        await make_delivery(session, person, rows, sent_at=now - timedelta(days=20))
        await make_delivery(
            session, person, rows, sent_at=now - timedelta(days=30), status="expired"
        )
        await make_delivery(session, person, rows, sent_at=now, text="Anything new?")

    async with any_services.sessions() as session:
        history = await chat_history(session, identity_key(token), now)

    assert history is not None and history.name == "Aileen"
    # the open prompts, however old; not the closed one from a month ago
    assert [b.text for b in history.bubbles] == [
        "What did you notice this week?",
        "Anything new?",
    ]
    assert history.bubbles[0].answered is None


async def test_after_a_reload_a_scale_question_shows_the_value_given(page: Page) -> None:
    await page.send(choice="4", delivery_id=str(page.delivery.id))

    history = (await page.client.get(f"{page.url}/history")).json()["bubbles"]

    [prompt] = [b for b in history if b["id"] == f"d{page.delivery.id}"]
    assert prompt["answered"] == "4 — Quite well"
    assert prompt["choices"] == []


async def test_each_answer_shows_under_its_own_question_when_two_projects_overlap(
    services: Services,
) -> None:
    from bot.channels.webchat import chat_history

    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        hub = await make_project(session, name="Family hub", today=now.date())
        transport = await make_project(session, name="Rural transport", today=now.date())
        person, _ = await make_person(session, hub.project, transport.project, now=now)
        token = await issue_webchat_link(session, person, now=now)
        first = await make_delivery(
            session, person, hub, sent_at=now - timedelta(hours=2), status="answered",
            text="What did families say at the hub?",
        )  # fmt: skip
        second = await make_delivery(
            session, person, transport, sent_at=now - timedelta(hours=1), status="answered",
            text="How did the bus trial go?",
        )  # fmt: skip
        for delivery, words, ago in ((second, "Two buses late", 40), (first, "They liked it", 20)):
            session.add(
                Reflection(
                    person_id=person.id, project_id=delivery.project_id, delivery_id=delivery.id,
                    kind="text", text=words, audience="team", channel="webchat",
                    created_at=now - timedelta(minutes=ago),
                )
            )  # fmt: skip

    async with services.sessions() as session:
        history = await chat_history(session, identity_key(token), now)

    assert history is not None
    assert [b.text for b in history.bubbles] == [
        "What did families say at the hub?",
        "They liked it",
        "How did the bus trial go?",
        "Two buses late",
    ]


async def test_a_what_we_heard_message_waits_on_the_page_until_it_is_answered(
    page: Page,
) -> None:
    from storage.models import Digest

    async with page.services.sessions() as session, session.begin():
        digest = Digest(
            kind="what_we_heard",
            recipient=f"person:{page.person.id}",
            person_id=page.person.id,
            scope="project:whatever",
            period="2027-W09",
            status="sent",
            sent_at=datetime.now(UTC),
            summary={"text": "We heard that the new room helped."},
        )
        session.add(digest)

    html = (await page.client.get(page.url)).text
    assert "We heard that the new room helped." in html
    assert f'data-value="heard:{digest.id}:yes"' in html

    await page.send(choice=f"heard:{digest.id}:yes")

    html = (await page.client.get(page.url)).text
    assert f'data-value="heard:{digest.id}:yes"' not in html
    assert "Thanks for your answer." in html


async def test_withdrawing_on_the_page_and_choosing_delete_erases_the_person_and_the_link(
    page: Page,
) -> None:
    await page.send(choice="4", delivery_id=str(page.delivery.id))

    left = (await page.send("evt-00000002", text="withdraw")).json()["replies"][0]
    assert [c["value"] for c in left["choices"]] == ["withdraw:keep", "withdraw:erase"]
    done = (await page.send("evt-00000003", choice="withdraw:erase")).json()["replies"][0]

    assert "everything you shared has been deleted" in done["text"]
    assert await page.count(Reflection) == 0
    assert await page.count(Person) == 0
    assert (await page.client.get(page.url)).status_code == 404
