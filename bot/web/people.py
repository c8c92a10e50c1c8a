"""``/review/people``: the admins' page for erasing one person's data on request.

Only admins see it; for anyone else it does not exist (404). The person page shows what an
erasure would delete (a dry run) and a form asking for the reason and the person's key typed
again; the result page lists what was deleted and what the check found. An erasure that
leaves anything behind answers 500 with the list, so it cannot pass for a success.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from adapters.errors import NotFound, UsageError
from bot.privacy.erasure import erase_person
from bot.review.web import ReviewRoute, checked_form, current_viewer, not_found, render, services_of
from storage.models import Person, Reflection

log = logging.getLogger(__name__)

router = APIRouter(prefix="/review/people", include_in_schema=False, route_class=ReviewRoute)


@router.get("", response_class=HTMLResponse)
async def people_page(request: Request) -> HTMLResponse:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        if not viewer.is_admin:
            return not_found(request, viewer)
        answers = (
            select(Reflection.person_id, func.count().label("n"))
            .group_by(Reflection.person_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(
                    Person.key, Person.study_code, Person.active, Person.withdrawn_at, answers.c.n
                )
                .outerjoin(answers, answers.c.person_id == Person.id)
                .order_by(Person.key)
            )
        ).all()
    return render(request, "people.html", viewer=viewer, rows=rows)


async def _person_page(
    request: Request, key: str, message: str = "", status: int = 200
) -> HTMLResponse:
    services = services_of(request)
    async with services.sessions() as session:
        viewer = await current_viewer(request, session)
        if not viewer.is_admin:
            return not_found(request, viewer)
    try:
        plan = await erase_person(
            services, key, actor=viewer.actor, reason="preview", now=datetime.now(UTC), dry_run=True
        )
    except NotFound:
        return not_found(request, viewer)
    return render(
        request, "person.html", status, viewer, key=key, plan=plan, message=message, done=None
    )


@router.get("/{key}", response_class=HTMLResponse)
async def person_page(request: Request, key: str) -> HTMLResponse:
    return await _person_page(request, key)


@router.post("/{key}/erase", response_class=HTMLResponse)
async def erase(request: Request, key: str) -> Response:
    form = await checked_form(request)
    services = services_of(request)
    async with services.sessions() as session:
        viewer = await current_viewer(request, session)
        if not viewer.is_admin:
            return not_found(request, viewer)
    if form.get("confirm", "").strip() != key:
        return await _person_page(request, key, "Type the person's key to confirm.", 400)
    try:
        report = await erase_person(
            services, key, actor=viewer.actor, reason=form.get("reason", ""), now=datetime.now(UTC)
        )
    except NotFound:
        return not_found(request, viewer)
    except UsageError as error:
        return await _person_page(request, key, str(error), 400)
    status = 200 if report.ok else 500
    return render(
        request, "person.html", status, viewer, key=key, plan=None, message="", done=report
    )
