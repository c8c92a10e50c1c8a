"""``carbot report context``: a project's context report for a retreat or local event."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapters.errors import PdfUnavailable, ReportNotFound
from bot.cli import with_services
from bot.cli.evaluation import evaluation
from bot.reports.context import build_context_report
from bot.reports.render import render_docx, render_html, render_pdf
from bot.reports.viewers import command_line_viewer, study_library
from bot.review import audit
from bot.services import Services


@click.group("report")
def report() -> None:
    """Reports of the research cycle itself: context reports before a retreat or local event."""


@report.command("context")
@click.option("--project", "project_slug", required=True, metavar="SLUG", help="The project.")
@click.option("--event", "event_key", required=True, metavar="KEY", help="The event's key.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output for html, context-SLUG-KEY.docx or .pdf).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["html", "docx", "pdf"]), default="html", show_default=True
)
@click.option(
    "--view",
    type=click.Choice(["lead", "researcher"]),
    default="lead",
    show_default=True,
    help="lead: what the project lead's digest shows (names for 'team' reflections, anonymous "
    "ones only under the small-n rule); researcher: every non-private reflection, by study code.",
)
@with_services
async def context(
    services: Services,
    project_slug: str,
    event_key: str,
    output: Path | None,
    fmt: str,
    view: str,
) -> None:
    """Build the draft context report of PROJECT for EVENT: aims and research questions, where
    the cycle is, the period's reflections under background / status / challenges / evidence /
    gaps, an evidence inventory and an evidence-gap table. Private reflections never appear."""
    zone = services.settings.default_timezone
    async with services.sessions() as session:
        viewer = await command_line_viewer(session, project_slug, view, zone)
        library = await study_library(session)
        try:
            built = await build_context_report(
                session,
                viewer,
                library,
                project_slug,
                event_key,
                zone=zone,
                links=False,
                public_url=services.settings.public_url.rstrip("/"),
            )
        except ReportNotFound as exc:
            raise click.ClickException(str(exc)) from exc
    html = render_html(built)
    if fmt == "html":
        body = html.encode("utf-8")
    elif fmt == "docx":
        body = render_docx(built)
    else:
        try:
            body = render_pdf(html, services.settings.chromium)
        except PdfUnavailable as exc:
            raise click.ClickException(str(exc)) from exc
    await audit.record(
        services.sessions,
        viewer,
        "context_report",
        f"project:{project_slug}",
        event=event_key,
        format=fmt,
        view=view,
    )
    if output is None and fmt == "html":
        sys.stdout.buffer.write(body)
        return
    target = output or Path(f"context-{project_slug}-{event_key}.{fmt}")
    target.write_bytes(body)
    click.echo(f"Wrote {target} ({len(body):,} bytes, {fmt}).")


report.add_command(evaluation, name="evaluation")
