"""The outbox in headless Chromium, as an admin really reaches it: sign in through the review
workspace's form, follow the "Outbox" link, open a digest. A lead or a researcher who types the
outbox's address is told there is nothing there (404), like anything else the review workspace
does not show them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from bot.engine.digest_jobs import send_due_digests
from bot.services import Services
from bot.web.app import create_app
from storage.db import transaction
from storage.models import Membership, User
from tests.conftest import make_settings, requires_chromium
from tests.digests.conftest import free_port
from tests.digests.factory import add_person, add_reflection, add_study, add_team
from tests.digests.helpers import WEEKLY_TIME
from tests.review.conftest import PASSWORD, PASSWORD_HASH
from tests.review.test_browser import _sign_in
from tests.support.environment import without_carbot_environment
from tests.support.schema import create_schema

pytestmark = [requires_chromium, pytest.mark.browser]
SUBJECT = "Family hub approach: weekly digest for 8–14 March 2027"


async def _prepare(services: Services) -> None:
    await create_schema(services.engine)
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session)
        await add_reflection(session, team, team.members[0], "The new room helped. <b>bold</b>")
        researcher = await add_person(session, "Rhona", email="researcher@example.org")
        session.add(
            Membership(person_id=researcher.id, project_id=team.project.id, role="researcher")
        )
        for email, person, admin in [
            ("admin@example.org", None, True),
            ("lead@example.org", team.lead.id, False),
            ("researcher@example.org", researcher.id, False),
        ]:
            session.add(
                User(email=email, person_id=person, is_admin=admin, password_hash=PASSWORD_HASH)
            )
    assert await send_due_digests(services, WEEKLY_TIME) == 2  # weekly + cross-partnership
    await services.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One outbox for the module: its tests only sign in and read."""
    with without_carbot_environment():
        settings = make_settings(tmp_path_factory.mktemp("outbox"))
    asyncio.run(_prepare(Services.from_settings(settings)))
    port = free_port()
    app = create_app(Services.from_settings(settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_admin_signs_in_and_reads_a_digest_in_the_outbox(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 800, "height": 900})
    _sign_in(page, served, "admin@example.org")

    page.get_by_role("link", name="Outbox").click()
    page.wait_for_url("**/review/outbox")
    assert page.get_by_role("heading", name="Outbox").is_visible()
    assert page.get_by_role("cell", name="lead@example.org").is_visible()

    page.get_by_role("link", name=SUBJECT).click()
    assert page.get_by_role("heading", name=SUBJECT).is_visible()
    plain = page.locator("pre").inner_text()
    assert "The new room helped. <b>bold</b>" in plain
    digest = page.frame_locator("iframe[title='HTML part of the digest']")
    assert digest.get_by_text("The new room helped. <b>bold</b>").is_visible()


def test_the_outbox_is_not_there_for_a_lead_or_a_researcher(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    for email in ("lead@example.org", "researcher@example.org"):
        context = browser.new_context()
        page = context.new_page()
        _sign_in(page, served, email)
        assert page.get_by_role("link", name="Reflections").is_visible()
        assert page.get_by_role("link", name="Outbox").count() == 0

        response = page.goto(f"{served}/review/outbox")
        assert response is not None and response.status == 404
        assert page.get_by_role("heading", name="Not found").is_visible()
        assert SUBJECT not in page.content()
        context.close()


def test_a_signed_out_browser_is_sent_to_sign_in_and_then_back_to_the_outbox(  # type: ignore[no-untyped-def]
    served: str, browser
) -> None:
    page = browser.new_page()
    page.goto(f"{served}/review/outbox")
    page.wait_for_url("**/review/sign-in?next=%2Freview%2Foutbox")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/review/outbox")
    assert page.get_by_role("link", name=SUBJECT).is_visible()
