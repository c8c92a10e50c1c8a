"""The review workspace's overview pages: the audit log (admins), the participation dashboard,
an event's evaluation summary, and exports."""

import io
import logging
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    Response,
    StreamingResponse,
)

from bot.evaluation.events import study_events
from bot.evaluation.summary import summarise
from bot.review import audit, dashboard, search
from bot.review.exports import FORMATS, record_export
from bot.review.exports.csv import write_csv
from bot.review.exports.qdc import codebook_xml
from bot.review.exports.refi import write_qdpx
from bot.review.web import (
    ReviewRoute,
    checked_form,
    current_viewer,
    not_found,
    render,
    services_of,
)
from digests.audience import SMALL_N

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/review", include_in_schema=False, route_class=ReviewRoute)


# ── the audit log (admins only) ────────────────────────────────────────────────────────────


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> Response:
    """Who read or did what, and when; filters by account, action and day. Admins only."""
    params = request.query_params
    filters = audit.AuditFilters(
        actor=(params.get("actor") or "").strip()[:320],
        action=(params.get("action") or "").strip()[:80],
        date_from=audit.parse_day(params.get("from")),
        date_to=audit.parse_day(params.get("to")),
    )
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        if not viewer.is_admin:
            return not_found(request, viewer)
        found = await audit.entries(session, filters)
        actions = await audit.actions(session)
    return render(
        request,
        "audit.html",
        viewer=viewer,
        entries=found,
        filters=filters,
        actions=actions,
        limit=audit.PAGE_LIMIT,
        details_text=audit.details_text,
    )


# ── dashboard and exports ──────────────────────────────────────────────────────────────────


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> HTMLResponse:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        projects = await dashboard.participation(session, viewer, datetime.now(UTC).date())
        events = await dashboard.events_by_project(session, [p.project.id for p in projects])
    return render(request, "dashboard.html", viewer=viewer, projects=projects, events=events)


@router.get("/reports/evaluation", response_class=HTMLResponse)
async def evaluation_page(request: Request, event: str = "") -> HTMLResponse:
    """An event's evaluation summary; without ``event``, the events to choose from. An event
    none of the viewer's projects took part in answers 404."""
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        allowed = viewer.project_ids()
        events = [
            e
            for e in await study_events(session, active_only=False)
            if allowed is None or e.project_ids & allowed
        ]
        if not event:
            return render(request, "evaluation.html", viewer=viewer, events=events, summary=None)
        chosen = next((e for e in events if e.key == event), None)
        if chosen is None:
            return not_found(request, viewer)
        summary = await summarise(session, chosen, viewer)
    await audit.record(services_of(request).sessions, viewer, "evaluation_report", f"event:{event}")
    return render(
        request, "evaluation.html", viewer=viewer, events=events, summary=summary, small_n=SMALL_N
    )


@router.get("/export", response_class=HTMLResponse)
async def export_page(request: Request) -> HTMLResponse:
    filters = search.Filters.from_params(request.query_params)
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        total = await search.count(session, viewer, filters)
    return render(
        request,
        "export.html",
        viewer=viewer,
        params=filters.as_params(),
        total=total,
        formats=FORMATS,
    )


@router.post("/export")
async def export(request: Request) -> Response:
    form = await checked_form(request)
    fmt = form.get("format", "")
    if fmt not in FORMATS:
        raise HTTPException(400, "Choose CSV, a REFI-QDA codebook (.qdc) or a project (.qdpx).")
    filters = search.Filters.from_params(form)
    services = services_of(request)
    media_type, suffix = FORMATS[fmt]
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    async with services.sessions() as session, session.begin():
        viewer = await current_viewer(request, session)
        if fmt == "csv":
            text = io.StringIO()
            rows = await write_csv(
                session, viewer, filters, text, safe_for_spreadsheets=form.get("cells") != "raw"
            )
            body: Iterator[bytes] | bytes = text.getvalue().encode("utf-8")
        elif fmt == "qdc":
            rows = 0
            body = await codebook_xml(session)
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
            rows = await write_qdpx(
                session, viewer, filters, spool, Path(services.settings.data_dir)
            )
            spool.seek(0)
            body = iter(lambda: spool.read(64 * 1024), b"")
        record_export(session, viewer, fmt, filters, rows)
    logger.info("export made", extra={"action": f"export_{fmt}", "rows": rows})
    headers = {
        "Content-Disposition": f'attachment; filename="carbot-{stamp}.{suffix}"',
        "Cache-Control": "private, no-store",
    }
    if isinstance(body, bytes):
        return Response(body, media_type=media_type, headers=headers)
    return StreamingResponse(body, media_type=media_type, headers=headers)
