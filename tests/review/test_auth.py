from __future__ import annotations

import pyotp
from sqlalchemy import select

from bot.review import auth
from storage.models import AuditLog, User
from tests.review.conftest import World
from tests.review.helpers import client, csrf, sign_in


async def _user(world: World, email: str) -> User:
    async with world.services.sessions() as session:
        return (await session.execute(select(User).where(User.email == email))).scalar_one()


async def test_a_page_asks_a_stranger_to_sign_in_first(world: World) -> None:
    async with client(world.services) as http:
        response = await http.get("/review/reflections?phase=scoping")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/review/sign-in?next=")


async def test_a_wrong_password_is_refused_with_a_clear_message(world: World) -> None:
    async with client(world.services) as http:
        response = await sign_in(http, "researcher@example.org", "not the password")
        assert response.status_code == 400
        assert "did not work" in response.text
        assert (await http.get("/review/reflections")).status_code == 303


async def test_a_second_factor_is_required_once_set_up(world: World) -> None:
    secret = auth.new_totp_secret()
    async with world.services.sessions() as session, session.begin():
        account = await session.get(User, world.users["researcher"])
        assert account is not None
        account.totp_secret = secret
    async with client(world.services) as http:
        assert (await sign_in(http, "researcher@example.org")).status_code == 400
        good = await sign_in(http, "researcher@example.org", code=pyotp.TOTP(secret).now())
        assert good.status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        target = world.reflections[("fife", "team")]
        forged = await http.post(f"/review/reflections/{target}/memos", data={"text": "hi"})
        wrong = await http.post(
            f"/review/reflections/{target}/memos", data={"text": "hi", "csrf": "made-up"}
        )
        no_login = await http.post("/review/sign-in", data={"email": "a@b.c", "password": "x"})
    assert forged.status_code == wrong.status_code == no_login.status_code == 403
    assert "This form has expired" in forged.text
    assert forged.headers["content-type"].startswith("text/html")


async def test_the_session_cookie_is_http_only_and_sign_out_ends_it(world: World) -> None:
    async with client(world.services) as http:
        response = await sign_in(http, "researcher@example.org")
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        token = await csrf(http, "/review/reflections")
        await http.post("/review/sign-out", data={"csrf": token})
        assert (await http.get("/review/reflections")).status_code == 303


async def test_sign_ins_and_failures_are_audited(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org", "nope")
        await sign_in(http, "researcher@example.org")
        await sign_in(http, "who@example.org")
    async with world.services.sessions() as session:
        actions = [
            a.action
            for a in (await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars()
        ]
    assert actions == ["sign_in_failed", "sign_in", "sign_in_failed"]


async def test_a_sign_in_only_sends_people_back_inside_the_workspace(world: World) -> None:
    async with client(world.services) as http:
        token = await csrf(http)
        response = await http.post(
            "/review/sign-in",
            data={
                "csrf": token,
                "email": "researcher@example.org",
                "password": "correct horse battery staple",
                "next": "https://evil.example/",
            },
        )
    assert response.headers["location"] == "/review/"
