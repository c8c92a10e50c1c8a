"""Without SMTP, digests are written once each to the outbox and listed on an admin page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bot.engine.digest_jobs import send_due_digests
from bot.review.auth import SESSION_COOKIE, Signer, start_session
from bot.web.app import create_app
from storage.db import transaction
from storage.models import User
from tests.digests.factory import add_reflection, add_study, add_team
from tests.digests.helpers import WEEKLY_TIME, outbox_messages
from tests.review.helpers import audit_entries


async def _written(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session)
        await add_reflection(session, team, team.members[0], "Hello <script>alert(1)</script>")
        session.add(User(email="admin@example.org", is_admin=True, password_hash="x"))
        session.add(User(email="someone@example.org", is_admin=False, password_hash="y"))


async def test_digests_are_written_to_the_outbox_once_each(services: Any) -> None:
    await _written(services)

    assert await send_due_digests(services, WEEKLY_TIME) == 1
    assert await send_due_digests(services, WEEKLY_TIME + timedelta(hours=1)) == 0

    files = list(services.settings.outbox_dir.glob("*.eml"))
    assert len(files) == 1 and files[0].name.startswith("2027-W10_lead_weekly_project_family-hub")
    (message,) = outbox_messages(services.settings.outbox_dir)
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == "lead@example.org"


async def _client(services: Any, email: str | None) -> httpx.AsyncClient:
    app = create_app(services)
    cookies = {}
    if email:
        async with services.sessions() as session, session.begin():
            user = await session.scalar(select(User).where(User.email == email))
            token = await start_session(session, user, datetime.now(UTC))
        cookies[SESSION_COOKIE] = Signer(services.secret_key()).session_cookie(token)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", cookies=cookies
    )


async def test_an_admin_sees_the_outbox_and_each_message_safely(services: Any) -> None:
    await _written(services)
    await send_due_digests(services, WEEKLY_TIME)
    (path,) = services.settings.outbox_dir.glob("*.eml")

    async with await _client(services, "admin@example.org") as client:
        listing = await client.get("/review/outbox")
        shown = await client.get(f"/review/outbox/{path.name}")
        raw = await client.get(f"/review/outbox/{path.name}/raw")
        escape = await client.get("/review/outbox/..%2Fcarbot.db")
        missing = await client.get("/review/outbox/nothing.eml")

    assert listing.status_code == 200
    assert "Family hub approach: weekly digest for 8–14 March 2027" in listing.text
    assert f'href="/review/outbox/{path.name}"' in listing.text
    assert shown.status_code == 200
    assert '<iframe sandbox=""' in shown.text
    assert "<script" not in shown.text  # the reflection's script is text, twice escaped
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in shown.text  # the plain-text part
    assert "script-src 'none'" in shown.headers["content-security-policy"]
    assert raw.status_code == 200 and raw.content == path.read_bytes()
    assert escape.status_code == 404 and missing.status_code == 404


async def test_the_outbox_pages_sit_in_the_review_workspace_with_its_menu_and_sign_out(
    services: Any,
) -> None:
    await _written(services)
    await send_due_digests(services, WEEKLY_TIME)
    (path,) = services.settings.outbox_dir.glob("*.eml")

    async with await _client(services, "admin@example.org") as client:
        pages = [
            await client.get("/review/outbox"),
            await client.get(f"/review/outbox/{path.name}"),
        ]

    for page in pages:
        assert '<nav aria-label="Review workspace">' in page.text
        assert '<a href="/review/reflections">Reflections</a>' in page.text
        assert "Sign out</button>" in page.text and 'action="/review/sign-out"' in page.text
        assert '<main id="main"' in page.text
        assert "form-action 'self'" in page.headers["content-security-policy"]


async def test_the_outbox_is_for_admins_only_and_does_not_exist_for_anyone_else(
    services: Any,
) -> None:
    await _written(services)
    await send_due_digests(services, WEEKLY_TIME)
    (path,) = services.settings.outbox_dir.glob("*.eml")

    async with await _client(services, None) as anonymous:
        response = await anonymous.get("/review/outbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/review/sign-in?next=%2Freview%2Foutbox"
    async with await _client(services, "someone@example.org") as someone:
        for url in (
            "/review/outbox",
            f"/review/outbox/{path.name}",
            f"/review/outbox/{path.name}/raw",
        ):
            refused = await someone.get(url)
            assert refused.status_code == 404, url
            assert "There is nothing here" in refused.text
            assert "Family hub approach" not in refused.text


async def test_the_review_nav_shows_the_outbox_to_admins_only_and_only_without_smtp(
    services: Any,
) -> None:
    await _written(services)

    async with await _client(services, "admin@example.org") as admin:
        admin_page = await admin.get("/review/reflections")
    async with await _client(services, "someone@example.org") as someone:
        other_page = await someone.get("/review/reflections")
    services.settings = services.settings.model_copy(update={"smtp_host": "smtp.example.org"})
    async with await _client(services, "admin@example.org") as admin:
        smtp_page = await admin.get("/review/reflections")

    assert admin_page.status_code == other_page.status_code == smtp_page.status_code == 200
    assert '<a href="/review/outbox">Outbox</a>' in admin_page.text
    assert "/review/outbox" not in other_page.text
    assert "/review/outbox" not in smtp_page.text


async def test_each_digest_an_admin_opens_leaves_one_audit_line_and_a_refused_one_none(
    any_services: Any,
) -> None:
    services = any_services  # on SQLite and PostgreSQL
    await _written(services)
    await send_due_digests(services, WEEKLY_TIME)
    (path,) = services.settings.outbox_dir.glob("*.eml")

    async with await _client(services, "someone@example.org") as someone:
        assert (await someone.get(f"/review/outbox/{path.name}")).status_code == 404
    assert await audit_entries(services, "read_digest") == []
    async with await _client(services, "admin@example.org") as admin:
        await admin.get("/review/outbox")  # the list shows subjects, not the digests' words
        assert (await admin.get(f"/review/outbox/{path.name}")).status_code == 200
    (entry,) = await audit_entries(services, "read_digest")
    actor, target = entry
    assert actor.startswith("user:") and target == f"outbox:{path.name}"
