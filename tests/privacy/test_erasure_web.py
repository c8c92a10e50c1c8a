"""The admins' erasure form in the review workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services import Services
from storage.models import AuditLog, Person, Reflection, User
from tests.privacy.world import Privacy, build_with_accounts
from tests.review.helpers import client, csrf, sign_in


@pytest.fixture
async def privacy(services: Services) -> Privacy:
    return await build_with_accounts(services)


async def _reflections(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Reflection)) or 0)


async def test_an_admin_erases_a_person_with_a_reason_and_sees_the_check(
    privacy: Privacy,
) -> None:
    key = privacy.ailsa_key
    async with client(privacy.services) as http:
        await sign_in(http, "admin@example.org")
        page = await http.get(f"/review/people/{key}")
        assert page.status_code == 200
        assert "Would delete for" in page.text and "4 reflections" in page.text
        token = await csrf(http, f"/review/people/{key}")

        done = await http.post(
            f"/review/people/{key}/erase",
            data={"csrf": token, "reason": "asked by phone", "confirm": key},
        )

    assert done.status_code == 200, done.text
    assert "nothing of them remains" in done.text
    assert "ask whoever wrote them to edit" in done.text  # the researcher's code memo
    assert await _reflections(privacy.services) == 1
    async with privacy.services.sessions() as session:
        line = await session.scalar(select(AuditLog).where(AuditLog.action == "people.erase"))
        admin = await session.scalar(select(User).where(User.email == "admin@example.org"))
    assert line is not None and admin is not None
    assert line.actor == f"user:{admin.id}" and line.details["reason"] == "asked by phone"


async def test_the_erasure_form_refuses_a_wrong_confirmation_and_a_missing_token(
    privacy: Privacy,
) -> None:
    key = privacy.ailsa_key
    async with client(privacy.services) as http:
        await sign_in(http, "admin@example.org")
        token = await csrf(http, f"/review/people/{key}")
        wrong = await http.post(
            f"/review/people/{key}/erase",
            data={"csrf": token, "reason": "asked", "confirm": "someone-else"},
        )
        forged = await http.post(
            f"/review/people/{key}/erase", data={"reason": "asked", "confirm": key}
        )
    assert wrong.status_code == 400 and "Type the person" in wrong.text
    assert forged.status_code == 403
    assert await _reflections(privacy.services) == 5


async def test_people_pages_do_not_exist_for_anyone_but_admins(privacy: Privacy) -> None:
    key = privacy.ailsa_key
    async with client(privacy.services) as http:
        await sign_in(http, "res@example.org")
        listing = await http.get("/review/people")
        page = await http.get(f"/review/people/{key}")
        token = await csrf(http, "/review/reflections")
        erase = await http.post(
            f"/review/people/{key}/erase", data={"csrf": token, "reason": "x", "confirm": key}
        )
    assert (listing.status_code, page.status_code, erase.status_code) == (404, 404, 404)
    async with privacy.services.sessions() as session:
        assert await session.get(Person, privacy.ailsa_id) is not None
