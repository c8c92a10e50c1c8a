"""Review sessions live on the server: a copied cookie stops working the moment its session
ends — by signing out, ``carbot user reset``, ``disable`` or a role change — or expires."""

from __future__ import annotations

from datetime import timedelta

import httpx
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import main
from bot.clock import FrozenClock
from bot.review import auth
from bot.services import Services
from storage.models import ReviewSession, User
from tests.review.conftest import PASSWORD, WHEN, World
from tests.review.helpers import client, csrf, run_cli, sign_in, with_services


async def _signed_in_cookie(services: Services, email: str, password: str = PASSWORD) -> str:
    async with client(services) as http:
        assert (await sign_in(http, email, password)).status_code == 303
        return str(http.cookies[auth.SESSION_COOKIE])


async def _replayed(services: Services, cookie: str) -> httpx.Response:
    async with client(services) as http:
        http.cookies.set(auth.SESSION_COOKIE, cookie, path="/review")
        return await http.get("/review/reflections")


def _refused(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith(
        "/review/sign-in"
    )


async def test_a_cookie_replayed_after_sign_out_is_sent_to_sign_in(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        cookie = str(http.cookies[auth.SESSION_COOKIE])
        token = await csrf(http, "/review/reflections")
        await http.post("/review/sign-out", data={"csrf": token})
    assert _refused(await _replayed(world.services, cookie))
    fresh = await _signed_in_cookie(world.services, "researcher@example.org")
    assert (await _replayed(world.services, fresh)).status_code == 200


async def test_signing_out_ends_only_that_browsers_session(world: World) -> None:
    other = await _signed_in_cookie(world.services, "researcher@example.org")
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        await http.post("/review/sign-out", data={"csrf": await csrf(http, "/review/codes")})
    assert (await _replayed(world.services, other)).status_code == 200


async def test_an_expired_session_is_refused_even_with_a_valid_signature(world: World) -> None:
    clock = FrozenClock(WHEN)
    services = world.services.with_clock(clock)
    cookie = await _signed_in_cookie(services, "lead@example.org")

    clock.advance(timedelta(seconds=auth.SESSION_MAX_AGE - 1))
    assert (await _replayed(services, cookie)).status_code == 200  # still inside its hours
    clock.advance(timedelta(seconds=1))
    assert _refused(await _replayed(services, cookie))


async def test_the_database_holds_no_token_a_cookie_could_be_made_from(world: World) -> None:
    cookie = await _signed_in_cookie(world.services, "lead@example.org")
    token = auth.Signer(world.services.secret_key()).session_token(cookie)
    async with world.services.sessions() as session:
        ids = list(await session.scalars(select(ReviewSession.id)))
    assert token and len(ids) == 1 and token not in ids[0]


def test_a_cookie_replayed_after_user_reset_is_refused(cli_world: World) -> None:
    cookie = with_services(cli_world, lambda s: _signed_in_cookie(s, "lead@example.org"))
    other = with_services(cli_world, lambda s: _signed_in_cookie(s, "researcher@example.org"))
    result = run_cli(
        "user", "reset", "lead@example.org", "--password-stdin", stdin="a brand new password\n"
    )
    assert "1 session(s) ended" in result.output
    assert _refused(with_services(cli_world, lambda s: _replayed(s, cookie)))
    assert with_services(cli_world, lambda s: _replayed(s, other)).status_code == 200
    fresh = with_services(
        cli_world, lambda s: _signed_in_cookie(s, "lead@example.org", "a brand new password")
    )
    assert with_services(cli_world, lambda s: _replayed(s, fresh)).status_code == 200


def test_a_cookie_replayed_after_the_account_is_disabled_is_refused(cli_world: World) -> None:
    cookie = with_services(cli_world, lambda s: _signed_in_cookie(s, "researcher@example.org"))
    assert "1 session(s) ended" in run_cli("user", "disable", "researcher@example.org").output
    assert _refused(with_services(cli_world, lambda s: _replayed(s, cookie)))

    async def try_to_sign_in(services: Services) -> int:
        async with client(services) as http:
            return (await sign_in(http, "researcher@example.org")).status_code

    assert with_services(cli_world, try_to_sign_in) == 400
    run_cli("user", "enable", "researcher@example.org")
    assert _refused(with_services(cli_world, lambda s: _replayed(s, cookie)))
    assert with_services(cli_world, try_to_sign_in) == 303


def test_a_cookie_replayed_after_a_role_change_is_refused(cli_world: World) -> None:
    cookie = with_services(cli_world, lambda s: _signed_in_cookie(s, "admin@example.org"))
    result = run_cli("user", "role", "admin@example.org", "lead", "--person", "lachie")
    assert "now a lead account" in result.output and "1 session(s) ended" in result.output
    assert _refused(with_services(cli_world, lambda s: _replayed(s, cookie)))

    async def outbox_as_lead(services: Services) -> int:
        async with client(services) as http:
            await sign_in(http, "admin@example.org")
            return (await http.get("/review/outbox")).status_code

    assert with_services(cli_world, outbox_as_lead) == 404


def test_a_session_ends_when_the_role_is_changed_in_the_database_directly(
    cli_world: World,
) -> None:
    cookie = with_services(cli_world, lambda s: _signed_in_cookie(s, "researcher@example.org"))

    async def promote(services: Services) -> None:
        async with services.sessions() as session, session.begin():
            await session.execute(
                update(User).where(User.email == "researcher@example.org").values(is_admin=True)
            )

    with_services(cli_world, promote)
    assert _refused(with_services(cli_world, lambda s: _replayed(s, cookie)))


def test_a_role_change_to_researcher_needs_a_person(cli_world: World) -> None:
    result = CliRunner().invoke(main, ["user", "role", "admin@example.org", "researcher"])
    assert result.exit_code != 0 and "--person" in result.output
