"""Web chat end to end in headless Chromium: a real server, a real browser, a real dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.channels.webchat import chat_url, issue_webchat_link
from bot.engine.dispatch import dispatch_once
from bot.services import Services
from storage.models import Attachment, Delivery, Person, Reflection
from tests.conftest import chromium_path, requires_chromium
from tests.support.participants import SCALE, make_delivery, make_person, make_project
from tests.webchat.conftest import CHROMIUM_ARGS

pytestmark = [requires_chromium, pytest.mark.browser]

# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5e1d0a20000000049454e44ae426082"
)
WAIT_MS = 15_000  # a bound on each wait, not a timing assertion


def always_at_work(person: Person) -> None:
    """Every day and hour is a working one for ``person``, so a prompt due now is sent now."""
    person.working_days = list(range(7))
    person.work_starts, person.work_ends = time(0, 0), time(23, 59, 59)


async def test_a_person_answers_a_prompt_in_the_web_chat_page(
    server: tuple[Services, object, str],
) -> None:
    from playwright.async_api import async_playwright, expect

    services, channel, _base = server
    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
        always_at_work(person)  # the test runs at the real time: any hour must be a working one
        token = await issue_webchat_link(session, person, now=now)
        delivery = await make_delivery(
            session,
            person,
            rows,
            sent_at=now - timedelta(seconds=1),
            status="planned",
            kind="scale",
            text="How well did this week's hub meeting go?",
            options=SCALE,
        )
    link = chat_url(services.settings, token)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 800})
            await page.goto(link)
            await expect(page.get_by_text("Hello Morag")).to_be_visible(timeout=WAIT_MS)
            await expect(page.locator("#chat[data-live=yes]")).to_have_count(1, timeout=WAIT_MS)

            # the dispatcher sends the prompt; it appears live on the open page
            sent = await dispatch_once(services, {"webchat": channel}, now, worker="e2e")  # type: ignore[dict-item]
            assert sent == 1
            prompt = page.locator("li.bubble.bot", has_text="hub meeting go?")
            await expect(prompt).to_be_visible(timeout=WAIT_MS)

            await prompt.get_by_role("button", name="Quite well").click()
            await expect(
                page.get_by_text("Saved to Family hub approach · Exploring")
            ).to_be_visible(timeout=WAIT_MS)
            await expect(prompt.get_by_text("4 — Quite well")).to_be_visible(timeout=WAIT_MS)

            await page.get_by_label("Your message").fill("The room was finally free")
            await page.keyboard.press("Enter")
            await expect(page.get_by_text("Added to your answer").first).to_be_visible(
                timeout=WAIT_MS
            )

            await page.get_by_label("Add a photo or file").set_input_files(
                {"name": "noticeboard.png", "mimeType": "image/png", "buffer": PNG}
            )
            await page.get_by_role("button", name="Send").click()
            await expect(page.get_by_text("Added to your answer")).to_have_count(2, timeout=WAIT_MS)
        finally:
            await browser.close()

    async with services.sessions() as session:
        reflections = list(await session.scalars(select(Reflection).order_by(Reflection.id)))
        attachments = list(await session.scalars(select(Attachment)))
        answered = await session.get(Delivery, delivery.id)
    assert [(r.kind, r.scale_value, r.text) for r in reflections] == [
        ("scale", 4, ""),
        ("text", None, "The room was finally free"),
        ("evidence", None, ""),
    ]
    for reflection in reflections:
        assert reflection.delivery_id == delivery.id
        assert (reflection.cycle_id, reflection.phase_id) == (rows.cycle.id, rows.phase.id)
        assert reflection.audience == "team_anonymous"
        assert reflection.channel == "webchat"
    assert [a.filename for a in attachments] == ["noticeboard.png"]
    assert answered is not None and answered.status == "answered"


async def test_on_a_390px_phone_the_composer_never_covers_the_newest_message(
    server: tuple[Services, object, str],
) -> None:
    """A long conversation on a small phone: the newest prompt sits above the composer,
    every button is at least 44 px (a thumb), and every control has a name a screen
    reader reads out."""
    import os

    from playwright.async_api import async_playwright, expect

    services, channel, _base = server
    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
        always_at_work(person)  # the test runs at the real time: any hour must be a working one
        token = await issue_webchat_link(session, person, now=now)
        for n in range(8):
            await make_delivery(
                session, person, rows, sent_at=now - timedelta(minutes=30 - n), status="planned",
                text=f"Question {n}: what did you notice at the hub this week, in a sentence?",
            )  # fmt: skip
        await make_delivery(
            session, person, rows, sent_at=now - timedelta(minutes=1), status="planned",
            kind="scale", text="How well did this week's hub meeting go?", options=SCALE,
        )  # fmt: skip
    sent = await dispatch_once(services, {"webchat": channel}, now, worker="e2e")  # type: ignore[dict-item]
    assert sent == 9

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 700})
            await page.goto(chat_url(services.settings, token))
            newest = page.locator("li.bubble.bot", has_text="hub meeting go?")
            await expect(newest).to_be_visible(timeout=WAIT_MS)
            await expect(page.locator("#chat[data-live=yes]")).to_have_count(1, timeout=WAIT_MS)
            await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            if os.environ.get("WEBCHAT_SCREENSHOT_DIR"):
                await page.screenshot(
                    path=os.path.join(os.environ["WEBCHAT_SCREENSHOT_DIR"], "webchat-390.png")
                )
            bubble = await newest.bounding_box()
            composer = await page.locator("#composer").bounding_box()
            assert bubble is not None and composer is not None
            assert bubble["y"] + bubble["height"] <= composer["y"] + 1
            assert bubble["y"] >= 0

            no_wider = await page.evaluate("document.documentElement.scrollWidth <= 390")
            assert no_wider, "the page scrolls sideways on a 390 px phone"
            for button in await page.get_by_role("button").all():
                if not await button.is_visible():
                    continue
                if await button.evaluate("b => b.type === 'file'"):
                    button = page.locator("label[for=file]")  # the file input's visible face
                box = await button.bounding_box()
                assert box is not None and box["height"] >= 44 and box["width"] >= 44
            await expect(page.get_by_label("Your message")).to_be_visible()
            await expect(page.get_by_label("Add a photo or file")).to_have_count(1)
            await expect(page.get_by_role("log", name="Conversation")).to_be_visible()
            for name in ("Not at all", "Very well", "Send"):
                await expect(page.get_by_role("button", name=name).first).to_be_visible()
        finally:
            await browser.close()


async def test_the_answer_box_counts_characters_live_and_refuses_an_over_long_answer(
    server: tuple[Services, object, str],
) -> None:
    from playwright.async_api import async_playwright, expect

    services, _channel, _base = server
    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
        always_at_work(person)  # the test runs at the real time: any hour must be a working one
        token = await issue_webchat_link(session, person, now=now)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(chat_url(services.settings, token))
            box = page.get_by_label("Your message")
            count = page.locator("#text-count")
            await expect(box).to_have_attribute("aria-describedby", "text-count")
            await expect(count).to_have_attribute("aria-live", "polite")
            await expect(count).to_have_text("Up to 8,000 characters.")
            await box.fill("Hello 👋")
            await expect(count).to_have_text("7 of 8,000 characters.")
            await box.fill("x" * 8001)
            await expect(count).to_have_text("8,001 of 8,000 characters: 1 too many to send.")
            assert await box.input_value() == "x" * 8001  # nothing cut
            await page.get_by_role("button", name="Send").click()
            await expect(page.locator("#status")).to_contain_text(
                "That's 8,001 characters; the limit is 8,000. Nothing was sent"
            )
        finally:
            await browser.close()
    async with services.sessions() as session:
        assert list(await session.scalars(select(Reflection))) == []
