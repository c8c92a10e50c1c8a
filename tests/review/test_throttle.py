"""Sign-in slows guessing without letting a stranger shut anyone out, and says nothing about
which addresses have accounts — in what it answers and in how long it takes."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
import time_machine

from bot.review import auth, throttle
from bot.services import Services
from bot.web.app import create_app
from storage.models import User
from tests.review.conftest import PASSWORD, World
from tests.review.helpers import csrf

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def browser(services: Services, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(services), client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def attempt(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = {"csrf": await csrf(http), "email": email, "password": password, "next": "/review/"}
    return await http.post("/review/sign-in", data=form)


async def test_five_failures_make_that_client_wait_and_the_right_password_works_after(
    world: World,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        async with browser(world.services, "198.51.100.7") as http:
            for _ in range(throttle.PER_ADDRESS_AND_CLIENT.after - 1):
                assert (await attempt(http, "lead@example.org", "guess")).status_code == 400
            fifth = await attempt(http, "lead@example.org", "guess")
            assert fifth.status_code == 429 and "Try again in 30 seconds" in fifth.text
            waiting = await attempt(http, "lead@example.org", PASSWORD)
            assert waiting.status_code == 429
            assert "Try again in 30 seconds" in waiting.text
            assert waiting.headers["retry-after"] == "30"
            clock.shift(timedelta(seconds=31))
            assert (await attempt(http, "lead@example.org", PASSWORD)).status_code == 303


async def test_the_wait_grows_with_each_further_failure_up_to_fifteen_minutes(
    world: World,
) -> None:
    waits = []
    now = START
    async with world.services.sessions() as session, session.begin():
        for _ in range(12):
            result = await auth.sign_in(session, "lead@example.org", "guess", "", now, "10.0.0.1")
            waits.append(result.retry_after)
            now += (result.retry_after or timedelta(0)) + timedelta(seconds=1)
        refused = await auth.sign_in(session, "lead@example.org", PASSWORD, "", START, "10.0.0.1")
    minutes = [w.total_seconds() / 60 for w in waits if w]
    assert waits[:4] == [None] * 4
    assert minutes == [0.5, 1, 2, 4, 8, 15, 15, 15]
    assert refused.user is None and "Try again in" in refused.message


async def test_a_success_starts_the_count_again(world: World) -> None:
    now = START
    async with world.services.sessions() as session, session.begin():
        for _ in range(2):
            for _ in range(throttle.PER_ADDRESS_AND_CLIENT.after - 1):
                result = await auth.sign_in(session, "lead@example.org", "x", "", now, "10.0.0.2")
                assert result.retry_after is None
            assert (
                await auth.sign_in(session, "lead@example.org", PASSWORD, "", now, "10.0.0.2")
            ).user


async def test_a_stranger_failing_on_someones_address_does_not_lock_them_out(
    world: World,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for n in range(40):  # a stranger, from forty clients
            async with browser(world.services, f"203.0.113.{n}") as http:
                await attempt(http, "researcher@example.org", "guess")
        async with browser(world.services, "198.51.100.20") as owner:
            slowed = await attempt(owner, "researcher@example.org", PASSWORD)
            assert slowed.status_code == 429
            assert int(slowed.headers["retry-after"]) <= 60
            clock.shift(timedelta(seconds=61))
            assert (await attempt(owner, "researcher@example.org", PASSWORD)).status_code == 303


async def test_one_client_trying_many_addresses_is_slowed_down(world: World) -> None:
    async with browser(world.services, "192.0.2.50") as http:
        for n in range(throttle.PER_CLIENT.after):
            assert (await attempt(http, f"guess{n}@example.org", "guess")).status_code in (400, 429)
        refused = await attempt(http, "lead@example.org", PASSWORD)
    assert refused.status_code == 429 and "Try again in" in refused.text
    async with browser(world.services, "192.0.2.51") as someone_else:
        assert (await attempt(someone_else, "lead@example.org", PASSWORD)).status_code == 303


async def test_an_unknown_address_is_throttled_exactly_like_a_real_one(
    any_services: Services,
) -> None:
    answers = {}
    async with any_services.sessions() as session, session.begin():
        for email in ("nobody@example.org", "nobody.else@example.org"):
            for _ in range(throttle.PER_ADDRESS_AND_CLIENT.after + 1):
                result = await auth.sign_in(session, email, "guess", "", START, "10.0.0.3")
            answers[email] = result.message
    assert answers["nobody@example.org"] == answers["nobody.else@example.org"]
    assert "Try again in 30 seconds" in answers["nobody@example.org"]


async def test_an_admin_reset_lifts_the_throttle(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        for _ in range(throttle.PER_ADDRESS_AND_CLIENT.after):
            await auth.sign_in(session, "lead@example.org", "guess", "", START, "10.0.0.4")
        await throttle.forget_address(session, "LEAD@example.org ")
        again = await auth.sign_in(session, "lead@example.org", PASSWORD, "", START, "10.0.0.4")
    assert again.user is not None


async def _seconds(services: Services, email: str, ip: str) -> float:
    async with browser(services, ip) as http:
        form = {"csrf": await csrf(http), "email": email, "password": "not it", "next": "/"}
        started = time.process_time()
        response = await http.post("/review/sign-in", data=form)
        elapsed = time.process_time() - started
    assert response.status_code == 400
    return elapsed


async def test_sign_in_takes_as_long_for_an_unknown_or_disabled_address_as_for_a_real_one(
    world: World,
) -> None:
    """Measured as the CPU time of this process (the app runs in it), so that other programs on
    a busy machine do not blur the comparison; on an idle machine it is the time a visitor
    waits."""
    # accounts with the real argon2 parameters, as `carbot user add` makes them
    async with world.services.sessions() as session, session.begin():
        session.add(User(email="real@example.org", password_hash=auth.hash_password(PASSWORD)))
        session.add(
            User(email="gone@example.org", password_hash=auth.hash_password(PASSWORD), active=False)
        )
    emails = ["real@example.org", "nobody@example.org", "gone@example.org"]
    times: dict[str, list[float]] = {email: [] for email in emails}
    await _seconds(world.services, "warm.up@example.org", "100.64.0.1")
    for run in range(9):  # interleaved, so that a busy machine slows each alike
        for n, email in enumerate(emails):
            times[email].append(await _seconds(world.services, email, f"100.64.{n + 1}.{run}"))
    real, unknown, disabled = (statistics.median(times[email]) for email in emails)
    for other in (unknown, disabled):
        assert abs(other - real) / real < 0.2, (real, unknown, disabled)


def test_an_unknown_address_is_checked_against_a_hash_as_costly_as_a_real_password() -> None:
    def parameters(hashed: str) -> str:
        return hashed.split("$")[3]  # "m=65536,t=3,p=4": memory, passes, lanes

    assert parameters(auth._dummy_hash()) == parameters(auth.hash_password("a real password"))
    assert not auth.check_password(None, "not a real password")
