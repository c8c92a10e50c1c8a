"""``carbot digest``: preview, send and inspect the weekly digests."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from adapters.errors import NotFound, UsageError
from bot.cli import run_async, with_services
from bot.engine.digest_jobs import due_digests, send_due_digests
from bot.services import Services
from digests import ledger
from digests.cross import build_cross
from digests.data import build_weekly
from digests.render import make_message, weekly_context
from digests.schedule import Week, schedule_for, zone
from storage.models import Project
from storage.queries import study_options

WIDTHS = (375, 800)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise click.BadParameter(
            "give a time zone, e.g. 2027-03-15T08:30:00+00:00", param_hint="--now"
        )
    return parsed.astimezone(UTC)


def _week(value: str | None, tz_name: str) -> Week:
    if not value:
        return Week.containing(datetime.now(zone(tz_name, "Europe/London")).date()).shifted(-1)
    try:
        return Week.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc


@click.group()
def digest() -> None:
    """Weekly digests for leads, "what we heard" for staff, cross-partnership learning."""


async def render_preview(
    services: Services, project_slug: str | None, week_label: str | None
) -> Any:
    """The email message a lead of PROJECT (or a researcher, without one) would get."""
    settings = services.settings
    async with services.sessions() as session:
        options = await study_options(session)
        if project_slug is None:
            tz = zone(None, settings.default_timezone)
            week = _week(week_label, tz.key)
            cross = await build_cross(session, week, tz, public_url=settings.public_url)
            return make_message(
                "cross-partnership",
                "researcher@example.org",
                {"d": cross, "recipient_name": None},
                sender=settings.mail_from,
            )
        project = await session.scalar(
            select(Project)
            .where(Project.slug == project_slug)
            .options(selectinload(Project.partnership))
        )
        if project is None:
            raise NotFound(f"no project with slug {project_slug!r}")
        tz = zone(project.partnership.timezone, settings.default_timezone)
        week = _week(week_label, tz.key)
        data = await build_weekly(
            session,
            project,
            week,
            tz,
            public_url=settings.public_url,
            schedule=schedule_for(options, project.digest),
            partnership_name=project.partnership.name,
        )
    return make_message(
        "weekly", "lead@example.org", weekly_context(data), sender=settings.mail_from
    )


async def screenshots(html_path: Path, widths: tuple[int, ...] = WIDTHS) -> list[Path]:
    """Full-page PNGs of ``html_path`` in headless Chromium, one per width."""
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:  # pragma: no cover - a dev dependency
        raise UsageError("--png needs Playwright: pip install playwright") from exc
    executable = next(
        (
            p
            for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
            if p
        ),
        None,
    )
    uri = html_path.as_uri()  # an absolute path
    paths = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for width in widths:
                page = await browser.new_page(viewport={"width": width, "height": 800})
                await page.goto(uri)
                target = html_path.with_name(f"{html_path.stem}-{width}.png")
                await page.screenshot(path=str(target), full_page=True)
                paths.append(target)
                await page.close()
        finally:
            await browser.close()
    return paths


@digest.command("preview")
@click.option(
    "--project", "project_slug", help="Project slug; leave out for the cross-partnership digest."
)
@click.option("--week", "week_label", help="ISO week, e.g. 2027-W10 (default: last week).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/previews"),
    show_default=True,
    help="Folder for the HTML (and PNG) files.",
)
@click.option("--png", is_flag=True, help="Also save screenshots at 375 and 800 px (Chromium).")
def preview(project_slug: str | None, week_label: str | None, out: Path, png: bool) -> None:
    """Write a digest's HTML (and plain text) for a person to look at, and print the paths."""

    @with_services
    async def render(services: Services) -> Any:
        try:
            return await render_preview(services, project_slug, week_label)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc

    message = render()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{project_slug or 'cross-partnership'}-{week_label or 'last-week'}"
    html = out / f"{stem}.html"
    html.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
    text = out / f"{stem}.txt"
    text.write_text(message.get_body(("plain",)).get_content(), encoding="utf-8")
    paths = [html, text]
    if png:
        try:
            paths += run_async(screenshots(html.resolve()))
        except UsageError as exc:
            raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(str(path))


@digest.command("send")
@click.option("--dry-run", is_flag=True, help="List the digests that are due; send nothing.")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601 with zone).")
def send(dry_run: bool, now_text: str | None) -> None:
    """Send every weekly digest that is due and not yet sent (safe to repeat)."""
    now = _now(now_text)

    @with_services
    async def run(services: Services) -> None:
        if dry_run:
            due = await due_digests(services, now)
            for item in due:
                click.echo(
                    f"{item.key.kind}\t{item.key.recipient}\t{item.key.scope}\t{item.key.period}"
                )
            click.echo(f"{len(due)} digest(s) due; nothing sent (dry run).")
            return
        sent = await send_due_digests(services, now)
        where = services.settings.smtp_host or services.settings.outbox_dir
        click.echo(f"{sent} digest(s) sent ({where}).")

    run()


@digest.command("status")
def status() -> None:
    """How many digests are pending, sending, sent, skipped and failed; the failed ones with
    their error."""

    @with_services
    async def run(services: Services) -> None:
        async with services.sessions() as session:
            report = await ledger.digest_status(session)
        counts = report["counts"]
        states = ("pending", "sending", "sent", "skipped", "failed")
        click.echo(", ".join(f"{k}: {counts.get(k, 0)}" for k in states))
        for row in report["failed"]:
            retry = row["next_attempt_at"].isoformat() if row["next_attempt_at"] else "not retried"
            click.echo(
                f"failed #{row['id']} {row['kind']} {row['recipient']} {row['scope']}"
                f" {row['period']} after {row['attempts']} attempt(s), next: {retry}:"
                f" {row['last_error']}"
            )

    run()


@digest.command("retry")
@click.argument("digest_id", type=int)
def retry(digest_id: int) -> None:
    """Let a failed digest be sent again on the next run."""

    @with_services
    async def run(services: Services) -> bool:
        return await ledger.retry_now(services.sessions, digest_id, datetime.now(UTC))

    if not run():
        raise click.ClickException(f"digest {digest_id} is not a failed digest")
    click.echo(f"Digest {digest_id} will be retried on the next send.")
