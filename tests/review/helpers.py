"""Driving the review app over ASGI, as a browser would (cookies, CSRF tokens, forms)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from storage.models import AuditLog
from tests.review.conftest import PASSWORD, World

T = TypeVar("T")

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REFLECTION_LINK = re.compile(r'href="/review/reflections/(\d+)"')


def client(services: Services) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(services)), base_url="http://testserver"
    )


async def csrf(http: httpx.AsyncClient, path: str = "/review/sign-in") -> str:
    page = await http.get(path)
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, email: str, password: str = PASSWORD, code: str = ""
) -> httpx.Response:
    token = await csrf(http)
    return await http.post(
        "/review/sign-in",
        data={
            "csrf": token,
            "email": email,
            "password": password,
            "code": code,
            "next": "/review/reflections",
        },
    )


def listed_ids(html: str) -> set[int]:
    return {int(found) for found in REFLECTION_LINK.findall(html)}


def run_cli(*args: str, stdin: str | None = None) -> Result:
    """``carbot ARGS``, which must succeed."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def with_services(world: World, body: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``body`` on fresh services for ``world``'s database (outside any running loop)."""

    async def run() -> Any:
        services = Services.from_settings(world.services.settings)
        try:
            return await body(services)
        finally:
            await services.close()

    return asyncio.run(run())  # type: ignore[no-any-return]


async def audit_entries(services: Services, action: str) -> list[tuple[str, str]]:
    """The audit log's (actor, target) pairs for ``action``, oldest first."""
    async with services.sessions() as session:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return [(e.actor, e.target) for e in (await session.scalars(query)).all()]


def audit_entries_of(settings: Settings, action: str) -> list[tuple[str, str]]:
    """:func:`audit_entries` on fresh services for ``settings``' database (for CLI tests)."""

    async def run() -> list[tuple[str, str]]:
        services = Services.from_settings(settings)
        try:
            return await audit_entries(services, action)
        finally:
            await services.close()

    return asyncio.run(run())
