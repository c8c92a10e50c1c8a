"""The web chat as people meet it in Chromium: what is in view after loading, sending and tapping,
where focus goes, focus rings, text size, sideways scrolling and axe-core's WCAG 2.2 AA checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels.webchat import chat_url, issue_webchat_link
from bot.services import Services
from storage.models import Reflection
from tests.conftest import chromium_path, requires_chromium
from tests.support.participants import SCALE, make_delivery, make_person, make_project
from tests.webchat.conftest import CHROMIUM_ARGS

pytestmark = [requires_chromium, pytest.mark.browser]

WAIT_MS = 15_000  # a bound on each wait, not a timing assertion
OPEN_QUESTION = "How well did this week's hub meeting go?"
# A phone, a desktop, and a 1280×900 window at 200% and 400% zoom (as CSS pixels).
SCREENS = [(390, 700), (1280, 800), (640, 450), (320, 225)]

# The WCAG contrast ratio of an element's focus outline against what is behind it.
RING_CONTRAST = """(el) => {
  const target = el.type === "file" ? document.querySelector(`label[for="${el.id}"]`) : el;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const channel = (v) => {
    v /= 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  let behind = [255, 255, 255];
  for (let n = target.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || c[3] > 0) { behind = c.slice(0, 3); break; }
  }
  const style = getComputedStyle(target);
  const again = el.dataset.ringSeen === "yes";
  el.dataset.ringSeen = "yes";
  const [hi, lo] = [luminance(rgb(style.outlineColor)), luminance(behind)].sort((a, b) => b - a);
  return {
    name: `${target.tagName}#${target.id}.${target.className} ${target.textContent.slice(0, 30)}`,
    again: again,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    ratio: (hi + 0.05) / (lo + 0.05),
  };
}"""


@dataclass
class Chat:
    services: Services
    link: str
    base: str


@pytest.fixture
async def chat(server: tuple[Services, object, str]) -> AsyncIterator[Chat]:
    """Two weeks of answered questions, then one open scale question."""
    services, _channel, base = server
    now = datetime.now(UTC)
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=now.date())
        person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
        token = await issue_webchat_link(session, person, now=now)
        for day in range(13, 0, -1):
            at = now - timedelta(days=day)
            asked = await make_delivery(
                session, person, rows, sent_at=at, status="answered",
                text=f"What did you notice at the hub {day} days ago, in a sentence or two?",
            )  # fmt: skip
            session.add(
                Reflection(
                    person_id=person.id, project_id=rows.project.id, delivery_id=asked.id,
                    kind="text", text="Families stayed longer and asked about the food bank.",
                    audience="team_anonymous", channel="webchat",
                    created_at=at + timedelta(minutes=20),
                )
            )  # fmt: skip
        await make_delivery(
            session, person, rows, sent_at=now - timedelta(minutes=3), status="sent",
            kind="scale", text=OPEN_QUESTION, options=SCALE,
        )  # fmt: skip
    yield Chat(services, chat_url(services.settings, token), base)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _open(browser: Any, chat: Chat, width: int, height: int) -> Any:
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": width, "height": height})
    await page.goto(chat.link)
    await expect(page.locator("#chat[data-live=yes]")).to_have_count(1, timeout=WAIT_MS)
    return page


async def _box(locator: Any) -> dict[str, float]:
    box = await locator.bounding_box()
    assert box is not None
    return dict(box)


async def _assert_above_the_composer(page: Any, locator: Any) -> None:
    bubble = await _box(locator)
    composer = await _box(page.locator("#composer"))
    bottom = bubble["y"] + bubble["height"]
    assert bubble["y"] >= 0, "the message starts above the top of the window"
    assert bottom <= composer["y"] + 1, "the composer covers the message"
    assert bottom <= page.viewport_size["height"] + 1, "the message ends below the window"


@pytest.mark.parametrize(("width", "height"), SCREENS)
async def test_after_status_the_reply_lies_wholly_above_the_composer(
    chat: Chat, browser: Any, width: int, height: int
) -> None:
    from playwright.async_api import expect

    page = await _open(browser, chat, width, height)
    await page.get_by_label("Your message").fill("status")
    await page.keyboard.press("Enter")
    reply = page.locator("li.bubble.bot", has_text="Answers this week")
    await expect(reply).to_be_visible(timeout=WAIT_MS)

    await _assert_above_the_composer(page, reply)
    if height >= 450:  # room for the question asked too
        await _assert_above_the_composer(page, page.locator("li.bubble.me", has_text="status"))
    assert await page.evaluate("document.activeElement.id") == "text"


@pytest.mark.parametrize(("width", "height"), SCREENS)
async def test_on_load_the_open_question_is_in_view(
    chat: Chat, browser: Any, width: int, height: int
) -> None:
    page = await _open(browser, chat, width, height)
    question = page.locator("li.bubble.bot", has_text=OPEN_QUESTION)
    box = await _box(question)
    if box["height"] < height / 2:
        await _assert_above_the_composer(page, question)
    else:  # taller than the room there is: it starts at the top of the window
        assert 0 <= box["y"] < height / 4


@pytest.mark.parametrize(("width", "height"), [(320, 700), (320, 225)])
async def test_nothing_scrolls_sideways_at_320px(
    chat: Chat, browser: Any, width: int, height: int
) -> None:
    page = await _open(browser, chat, width, height)
    await page.get_by_role("button", name="A+").click()
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_a_tap_moves_focus_to_the_next_question_in_the_reply_and_shows_it(
    chat: Chat, browser: Any
) -> None:
    from playwright.async_api import expect

    page = await _open(browser, chat, 390, 700)
    await page.get_by_label("Your message").fill("audience")
    await page.keyboard.press("Enter")
    asking = page.locator("li.bubble.bot", has_text="Tap to change who can see")
    await expect(asking.get_by_role("button").first).to_be_visible(timeout=WAIT_MS)

    await asking.get_by_role("button").first.click()
    reply = page.locator("li.bubble.bot").last
    await expect(asking.get_by_role("button")).to_have_count(0, timeout=WAIT_MS)
    await expect(reply).not_to_have_text(await asking.inner_text(), timeout=WAIT_MS)

    focused = await page.evaluate("document.activeElement.closest('li.bubble')?.id || ''")
    assert focused == await reply.get_attribute("id"), "focus is not on the new reply"
    await _assert_above_the_composer(page, reply)


async def test_tapping_a_scale_value_keeps_focus_in_the_conversation(
    chat: Chat, browser: Any
) -> None:
    from playwright.async_api import expect

    page = await _open(browser, chat, 390, 700)
    question = page.locator("li.bubble.bot", has_text=OPEN_QUESTION)
    await question.get_by_role("button", name="Quite well").click()
    await expect(question.get_by_text("4 — Quite well")).to_be_visible(timeout=WAIT_MS)
    saved = page.locator("li.bubble.bot", has_text="Saved to")
    await expect(saved).to_be_visible(timeout=WAIT_MS)

    assert await page.evaluate("document.activeElement.tagName") != "BODY"
    assert await page.evaluate("!!document.activeElement.closest('#log')")
    await _assert_above_the_composer(page, saved.last)


async def test_every_focus_ring_has_at_least_3_to_1_contrast_with_what_is_behind_it(
    chat: Chat, browser: Any
) -> None:
    from tests.review.conftest import PASSWORD, build_world

    await build_world(chat.services, chat.services.settings.data_dir)
    signed_in = await browser.new_context(viewport={"width": 390, "height": 700})
    page = await signed_in.new_page()
    await page.goto(f"{chat.base}/review/sign-in")
    await page.get_by_label("Email").fill("researcher@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/review/**")
    rings = []
    for url in (chat.link, f"{chat.base}/review/sign-in", f"{chat.base}/review/reflections"):
        if url.endswith("reflections"):
            page = await signed_in.new_page()
        else:
            page = await browser.new_page(viewport={"width": 390, "height": 700})
        await page.goto(url)
        await page.locator("body").focus()
        for _ in range(40):
            await page.keyboard.press("Tab")
            ring = await page.evaluate(f"({RING_CONTRAST})(document.activeElement)")
            if ring["name"].startswith("BODY") or ring["again"]:
                break
            rings.append((url.rsplit("/", 1)[-1][:12], ring))
        await page.close()

    assert len(rings) >= 20, rings  # every page was walked, not just its first control
    assert any(ring["ratio"] < 10 for _where, ring in rings)  # the review's blue bar was in it
    for where, ring in rings:
        assert ring["style"] != "none" and ring["width"] >= 2, (where, ring)
        assert ring["ratio"] >= 3, (where, ring)


async def test_text_grows_with_the_browsers_default_size_and_with_a_plus(
    chat: Chat, browser: Any
) -> None:
    from playwright.async_api import expect

    text_size = "parseFloat(getComputedStyle(document.querySelector('.bubble .text')).fontSize)"
    page = await _open(browser, chat, 390, 700)
    usual = await page.evaluate(text_size)

    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})
    await page.reload()
    await expect(page.locator("#chat[data-live=yes]")).to_have_count(1, timeout=WAIT_MS)
    assert await page.evaluate(text_size) == pytest.approx(usual * 1.5, rel=0.02)

    await page.get_by_role("button", name="A+").click()
    await page.get_by_role("button", name="A+").click()
    larger = await page.evaluate(text_size)
    assert larger == pytest.approx(usual * 1.5 * 1.3, rel=0.02)
    await expect(page.get_by_role("status")).to_have_text("Text size 130%.")
    await page.reload()  # remembered in this browser
    assert await page.evaluate(text_size) == pytest.approx(larger, rel=0.02)


async def _serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}×)"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


@pytest.mark.parametrize(("width", "height"), [(390, 700), (1280, 800)])
async def test_axe_finds_no_serious_problem_with_an_open_question_or_reply_buttons(
    chat: Chat, browser: Any, width: int, height: int
) -> None:
    from playwright.async_api import expect

    page = await _open(browser, chat, width, height)
    await expect(page.get_by_role("button", name="Quite well")).to_be_visible()
    # a live log (read out as replies come) holding a list of messages that is still a list
    conversation = page.get_by_role("log", name="Conversation")
    await expect(conversation.get_by_role("list").first.get_by_role("listitem")).not_to_have_count(
        0
    )
    assert await _serious_violations(page) == []

    await page.get_by_label("Your message").fill("audience")
    await page.keyboard.press("Enter")
    asking = page.locator("li.bubble.bot", has_text="Tap to change who can see")
    await expect(asking.get_by_role("button").first).to_be_visible(timeout=WAIT_MS)
    assert await _serious_violations(page) == []
