"""The review workspace's pages under ``/review``: sign-in, reflections, coding, memos and
evidence files (the codebook is in :mod:`bot.web.codebook`, the overview pages — audit,
dashboard, evaluation, exports — in :mod:`bot.web.overview`).

Every page is server-rendered (Jinja2, autoescaped); every POST carries a CSRF token; a
reflection or evidence file the viewer may not see answers 404, exactly like a missing one.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
)

from adapters.errors import UsageError
from adapters.numbers import strict_id, strict_int
from bot.privacy.forget import forget_reflection
from bot.review import audit, auth, coding, pages, search
from bot.review.access import Viewer, author_label
from bot.review.exports import context_of
from bot.review.web import (
    EVIDENCE_HEADERS,
    ReviewRoute,
    checked_form,
    current_viewer,
    evidence_path,
    id_in_path,
    not_found,
    redirect,
    render,
    safe_next,
    secure,
    services_of,
    shown_inline,
    signer_of,
)
from storage.models import Attachment, Coding

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/review", include_in_schema=False, route_class=ReviewRoute)

# Ids in a page's address: anything but plain digits within range is a 404 before any query.
ReflectionId = Annotated[int, Depends(id_in_path("reflection_id"))]
CodingId = Annotated[int, Depends(id_in_path("coding_id"))]
AttachmentId = Annotated[int, Depends(id_in_path("attachment_id"))]

# ── signing in and out ─────────────────────────────────────────────────────────────────────


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home() -> RedirectResponse:
    return redirect("/review/reflections")


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str = "/review/") -> HTMLResponse:
    return render(request, "sign_in.html", next=safe_next(next), message="")


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await checked_form(request)
    services = services_of(request)
    now = services.clock.now()
    async with services.sessions() as session, session.begin():
        result = await auth.sign_in(
            session,
            form.get("email", ""),
            form.get("password", ""),
            form.get("code", ""),
            now,
            client=request.client.host if request.client else "",
        )
        token = await auth.start_session(session, result.user, now) if result.user else None
    if token is None:
        refused = render(
            request,
            "sign_in.html",
            429 if result.retry_after else 400,
            next=safe_next(form.get("next", "")),
            message=result.message,
            email=form.get("email", "")[:320],
        )
        if result.retry_after:
            refused.headers["Retry-After"] = str(math.ceil(result.retry_after.total_seconds()))
        return refused
    response = redirect(safe_next(form.get("next", "")))
    response.set_cookie(
        auth.SESSION_COOKIE,
        signer_of(request).session_cookie(token),
        max_age=auth.SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        path="/review",
        secure=secure(request),
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    async with services_of(request).sessions() as session, session.begin():
        await auth.end_session(
            session, signer_of(request), request.cookies.get(auth.SESSION_COOKIE)
        )
    response = redirect("/review/sign-in")
    response.delete_cookie(auth.SESSION_COOKIE, path="/review")
    return response


# ── reflections ────────────────────────────────────────────────────────────────────────────


@router.get("/reflections", response_class=HTMLResponse)
async def reflections(request: Request, page: str = "1") -> HTMLResponse:
    filters = search.Filters.from_params(request.query_params)
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        found = await search.search(session, viewer, filters, strict_int(page.strip()) or 1)
        choices = await pages.filter_choices(session, viewer)
    rows = [(r, context_of(viewer, r)) for r in found.reflections]
    params = filters.as_params()
    await audit.record(
        services_of(request).sessions,
        viewer,
        "search",
        "reflections",
        filters=params,
        page=found.page,
        total=found.total,
        shown=[r.id for r in found.reflections],
    )
    return render(
        request,
        "reflections.html",
        viewer=viewer,
        rows=rows,
        found=found,
        filters=filters,
        choices=choices,
        query=urlencode(params),
        params=params,
    )


@router.get("/reflections/{reflection_id}", response_class=HTMLResponse)
async def reflection_page(request: Request, reflection_id: ReflectionId) -> HTMLResponse:
    return await _reflection(request, reflection_id)


@router.get("/anonymous/{handle}", response_class=HTMLResponse)
async def anonymous_reflection_page(request: Request, handle: str) -> HTMLResponse:
    """A reflection shown to a lead as anonymous, reached by its handle, never by its id."""
    return await _reflection(request, handle=handle)


@router.get("/anonymous/{handle}/evidence/{number}")
async def anonymous_evidence(request: Request, handle: str, number: int) -> Response:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        reflection = await pages.reflection_by_handle(session, viewer, handle)
        files = reflection.attachments if reflection is not None else []
        if not 1 <= number <= len(files):
            return not_found(request, viewer)
    return await _evidence_file(request, viewer, files[number - 1])


async def _reflection(
    request: Request,
    reflection_id: int = 0,
    message: str = "",
    status: int = 200,
    handle: str = "",
) -> HTMLResponse:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        reflection = (
            await pages.reflection_by_handle(session, viewer, handle)
            if handle
            else await pages.visible_reflection(session, viewer, reflection_id)
        )
        if reflection is None:
            return not_found(request, viewer)
        codings, memos = await pages.codings_and_memos(session, reflection)
        if not viewer.can_code:
            memos = []  # memos are for researchers and admins only
        codes = coding.flatten(await coding.codebook(session))
    await audit.record(
        services_of(request).sessions, viewer, "read_reflection", f"reflection:{reflection.id}"
    )
    return render(
        request,
        "reflection.html",
        status,
        viewer,
        reflection=reflection,
        context=context_of(viewer, reflection),
        pieces=pages.segments(reflection.text, codings),
        codings=codings,
        memos=memos,
        codes=codes,
        author=author_label(viewer, reflection, reflection.person),
        can_code=viewer.can_code and not viewer.masks(reflection),
        message=message,
    )


@router.post("/reflections/{reflection_id}/erase", response_class=HTMLResponse)
async def erase_reflection(request: Request, reflection_id: ReflectionId) -> Response:
    """An admin erases one reflection on the participant's request (see bot.privacy.forget)."""
    form = await checked_form(request)
    services = services_of(request)
    async with services.sessions() as session:
        viewer = await current_viewer(request, session)
        if (
            not viewer.is_admin
            or await pages.visible_reflection(session, viewer, reflection_id) is None
        ):
            return not_found(request, viewer)
    try:
        done = await forget_reflection(
            services,
            reflection_id,
            actor=viewer.actor,
            reason=form.get("reason", ""),
            now=datetime.now(UTC),
        )
    except UsageError as error:
        return await _reflection(request, reflection_id, str(error), 400)
    return render(request, "erased.html", 200, viewer, done=done)


@router.post("/reflections/{reflection_id}/codings", response_class=HTMLResponse)
async def add_coding(request: Request, reflection_id: ReflectionId) -> Response:
    form = await checked_form(request)

    def number(name: str) -> int | None:
        value = form.get(name, "").strip()
        if not value:
            return None
        found = strict_int(value)
        if found is None:
            raise UsageError("The start and end of a passage are whole numbers, like 0 and 42.")
        return found

    whole = form.get("whole") == "1"
    try:
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            reflection = await pages.visible_reflection(session, viewer, reflection_id)
            if reflection is None:
                return not_found(request, viewer)
            await coding.apply_code(
                session,
                viewer,
                reflection,
                strict_id(form.get("code_id", "").strip()),
                None if whole else number("start"),
                None if whole else number("end"),
            )
    except UsageError as error:
        return await _reflection(request, reflection_id, str(error), 400)
    return redirect(f"/review/reflections/{reflection_id}#codings")


@router.post("/codings/{coding_id}/delete", response_class=HTMLResponse)
async def delete_coding(request: Request, coding_id: CodingId) -> Response:
    await checked_form(request)
    async with services_of(request).sessions() as session, session.begin():
        viewer = await current_viewer(request, session)
        found = await session.get(Coding, coding_id)
        reflection = (
            await pages.visible_reflection(session, viewer, found.reflection_id) if found else None
        )
        if found is None or reflection is None or not viewer.can_code:
            return not_found(request, viewer)
        await coding.remove_coding(session, viewer, found)
    return redirect(f"/review/reflections/{reflection.id}#codings")


@router.post("/reflections/{reflection_id}/memos", response_class=HTMLResponse)
async def add_reflection_memo(request: Request, reflection_id: ReflectionId) -> Response:
    form = await checked_form(request)
    try:
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            if await pages.visible_reflection(session, viewer, reflection_id) is None:
                return not_found(request, viewer)
            await coding.add_memo(
                session, viewer, form.get("text", ""), reflection_id=reflection_id
            )
    except UsageError as error:
        return await _reflection(request, reflection_id, str(error), 400)
    return redirect(f"/review/reflections/{reflection_id}#memos")


@router.get("/evidence/{attachment_id}")
async def evidence(request: Request, attachment_id: AttachmentId) -> Response:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        attachment = await pages.visible_attachment(session, viewer, attachment_id)
        if attachment is None:
            return not_found(request, viewer)
    return await _evidence_file(request, viewer, attachment)


async def _evidence_file(request: Request, viewer: Viewer, attachment: Attachment) -> Response:
    path = evidence_path(Path(services_of(request).settings.data_dir), attachment.path)
    if path is None:
        return not_found(request, viewer)
    await audit.record(
        services_of(request).sessions,
        viewer,
        "read_evidence",
        f"attachment:{attachment.id}",
        reflection=attachment.reflection_id,
    )
    inline = shown_inline(attachment.kind, attachment.content_type)
    return FileResponse(
        path,
        media_type=attachment.content_type if inline else "application/octet-stream",
        filename=attachment.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers=EVIDENCE_HEADERS,
    )
