"""The context report page: ``/review/reports/context?project=SLUG&event=KEY`` (and the same
report as ``&format=docx`` or ``pdf``), built for the signed-in viewer by the review access rules.
A project the viewer may not see, or an event it does not take part in, is a 404."""

from __future__ import annotations

import asyncio
import logging
import secrets
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRouter

from adapters.errors import PdfUnavailable, ReportNotFound
from bot.reports.context import build_context_report
from bot.reports.render import FORMATS, render_docx, render_html, render_pdf
from bot.reports.viewers import study_library
from bot.review.web import (
    NOT_FOUND,
    ReviewRoute,
    current_viewer,
    page_headers,
    services_of,
)
from storage.models import AuditLog

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/review", include_in_schema=False, route_class=ReviewRoute)


@router.get("/reports/context", response_class=HTMLResponse)
async def context_report(
    request: Request, project: str = "", event: str = "", format: str = "html"
) -> Response:
    if format not in FORMATS:
        raise HTTPException(400, "Choose html, docx or pdf.")
    services = services_of(request)
    async with services.sessions() as session, session.begin():
        viewer = await current_viewer(request, session)
        try:
            report = await build_context_report(
                session,
                viewer,
                await study_library(session),
                project,
                event,
                zone=services.settings.default_timezone,
                # a downloaded file's links must work outside the browser that fetched it
                public_url=services.settings.public_url.rstrip("/") if format != "html" else "",
            )
        except ReportNotFound:
            raise HTTPException(404, NOT_FOUND) from None
        session.add(
            AuditLog(
                actor=viewer.actor,
                action="context_report",
                target=f"project:{project}",
                details={"event": event, "format": format},
            )
        )
    here = "/review/reports/context?" + urlencode({"project": project, "event": event})
    downloads = [
        ("Word (.docx)", f"{here}&format=docx"),
        ("PDF", f"{here}&format=pdf"),
        ("Back to the dashboard", "/review/dashboard"),
    ]
    html = render_html(report, downloads)
    if format == "html":
        return HTMLResponse(html, headers=page_headers(secrets.token_urlsafe(16)))
    if format == "docx":
        body = render_docx(report)
    else:
        try:
            body = await asyncio.to_thread(
                render_pdf, render_html(report), services.settings.chromium
            )
        except PdfUnavailable as exc:
            logger.warning("context report PDF unavailable: %s", exc)
            raise HTTPException(503, str(exc)) from None
    media_type, suffix = FORMATS[format]
    headers = {
        "Content-Disposition": f'attachment; filename="context-{project}-{event}.{suffix}"',
        "Cache-Control": "private, no-store",
    }
    return Response(body, media_type=media_type, headers=headers)
