"""Digests go through a real SMTP server on loopback, and arrive as a lead would read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.engine.digest_jobs import digest_config, send_due_digests
from digests import ledger
from digests.mail import SmtpMailer
from storage.db import transaction
from storage.models import Digest
from tests.digests.conftest import SmtpServer, parts
from tests.digests.factory import MONDAY, add_delivery, add_reflection, add_study, add_team, at
from tests.support.schema import create_schema

SEND_TIME = at(MONDAY + timedelta(days=7), 8, 5)  # Monday 15 March 2027, 08:05 London


async def _busy_week(services: Any) -> Any:
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session)
        texts = [
            "Parents found the drop-in by word of mouth",
            "The referral form puts people off",
            "Nursery staff now point families to us",
        ]
        for member, text in zip(team.members, texts, strict=False):
            delivery = await add_delivery(session, team, member, at(MONDAY + timedelta(days=1), 10))
            await add_reflection(session, team, member, text, delivery=delivery)
    return team


async def test_a_lead_receives_one_multipart_digest_with_the_same_reflections_in_both_parts(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)

    sent = await send_due_digests(smtp_services, SEND_TIME)

    assert sent == 1
    (recipients, message), *_ = smtp_server.inbox.messages
    assert len(smtp_server.inbox.messages) == 1
    assert recipients == ["lead@example.org"]
    assert message["To"] == "lead@example.org"
    assert message["From"] == "carbot <digests@carbot.example>"
    assert message["Subject"] == "Family hub approach: weekly digest for 8–14 March 2027"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = parts(message)
    for text in (
        "Parents found the drop-in by word of mouth",
        "The referral form puts people off",
        "Nursery staff now point families to us",
    ):
        assert text in plain
        assert text in html
    assert "How do families find us?" in plain and "How do families find us?" in html
    assert 'style="' in html  # CSS inlined


async def test_a_second_run_and_a_later_run_send_nothing_more(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)

    assert await send_due_digests(smtp_services, SEND_TIME) == 1
    assert await send_due_digests(smtp_services, SEND_TIME) == 0
    assert await send_due_digests(smtp_services, SEND_TIME + timedelta(days=2)) == 0

    assert len(smtp_server.inbox.messages) == 1
    async with smtp_services.sessions() as session:
        row = await session.scalar(select(Digest))
    assert (row.kind, row.scope, row.period, row.status) == (
        "lead_weekly",
        "project:family-hub",
        "2027-W10",
        "sent",
    )


async def test_nothing_is_sent_before_monday_eight_in_the_leads_zone(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)

    assert await send_due_digests(smtp_services, SEND_TIME - timedelta(minutes=10)) == 0
    assert smtp_server.inbox.messages == []


async def test_a_refused_send_is_recorded_as_failed_and_retried_after_backoff(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)
    smtp_server.inbox.refuse_next = ["451 Try again later"] * 3  # more than the quick retries
    mailer = SmtpMailer(digest_config(smtp_services.settings), pauses=(0.01, 0.01))

    assert await send_due_digests(smtp_services, SEND_TIME, mailer=mailer) == 0
    async with smtp_services.sessions() as session:
        report = await ledger.digest_status(session)
    assert report["counts"] == {"failed": 1}
    (failed,) = report["failed"]
    assert "451" in failed["last_error"]
    assert failed["next_attempt_at"] > SEND_TIME

    # not before the backoff has passed …
    assert (
        await send_due_digests(smtp_services, SEND_TIME + timedelta(seconds=10), mailer=mailer) == 0
    )
    # … and then exactly once
    later = SEND_TIME + timedelta(minutes=5)
    assert await send_due_digests(smtp_services, later, mailer=mailer) == 1
    assert await send_due_digests(smtp_services, later, mailer=mailer) == 0
    assert len(smtp_server.inbox.to("lead@example.org")) == 1


async def test_a_transient_refusal_is_retried_within_the_same_run(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)
    smtp_server.inbox.refuse_next = ["421 Service not available, closing channel"]
    mailer = SmtpMailer(digest_config(smtp_services.settings), pauses=(0.01, 0.01))

    assert await send_due_digests(smtp_services, SEND_TIME, mailer=mailer) == 1
    assert len(smtp_server.inbox.messages) == 1


async def test_a_permanent_refusal_stays_failed_and_visible(
    smtp_services: Any, smtp_server: SmtpServer
) -> None:
    await _busy_week(smtp_services)
    smtp_server.inbox.refuse_next = ["554 Message rejected"]
    mailer = SmtpMailer(digest_config(smtp_services.settings), pauses=(0.01,))

    assert await send_due_digests(smtp_services, SEND_TIME, mailer=mailer) == 0
    assert await send_due_digests(smtp_services, SEND_TIME + timedelta(days=1), mailer=mailer) == 0
    async with smtp_services.sessions() as session:
        report = await ledger.digest_status(session)
    (failed,) = report["failed"]
    assert failed["next_attempt_at"] is None and "554" in failed["last_error"]
    assert smtp_server.inbox.messages == []


async def test_it_signs_in_to_the_smtp_server_with_the_configured_user(
    tmp_path: Any, smtp_server: SmtpServer
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from bot.services import Services
    from tests.conftest import make_settings
    from tests.digests.conftest import Inbox, free_port

    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret")

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        for password, expected in (("wrong", 0), ("s3cret", 1)):
            settings = make_settings(
                tmp_path / password,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                smtp_username="carbot",
                smtp_password=password,
            )
            services = Services.from_settings(settings)
            await create_schema(services.engine)
            await _busy_week(services)
            # (aiosmtpd leaves a refused login unanswered: a short timeout keeps the test quick)
            mailer = SmtpMailer(digest_config(settings), pauses=(), timeout=1.0)
            assert await send_due_digests(services, SEND_TIME, mailer=mailer) == expected
            await services.close()
    finally:
        controller.stop()

    assert logins[0] == ("carbot", "wrong") and logins[-1] == ("carbot", "s3cret")
    assert len(inbox.messages) == 1
