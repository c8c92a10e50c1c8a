"""The review workspace's codebook pages under ``/review/codes``: the nested codes, adding,
editing and importing them, and code memos (researchers and admins)."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import (
    HTMLResponse,
    Response,
)

from adapters.errors import UsageError
from adapters.numbers import strict_id
from bot.review import codebook_import, coding, pages
from bot.review.web import (
    ReviewRoute,
    checked_form,
    checked_upload,
    current_viewer,
    id_in_path,
    not_found,
    redirect,
    render,
    services_of,
)
from storage.models import AuditLog, Code

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/review", include_in_schema=False, route_class=ReviewRoute)

# Ids in a page's address: anything but plain digits within range is a 404 before any query.
CodeId = Annotated[int, Depends(id_in_path("code_id"))]


# ── codebook ───────────────────────────────────────────────────────────────────────────────


async def _codes_page(
    request: Request, message: str = "", status: int = 200, report: list[str] | None = None
) -> HTMLResponse:
    async with services_of(request).sessions() as session:
        viewer = await current_viewer(request, session)
        nodes = coding.flatten(await coding.codebook(session))
        counts = await coding.code_counts(session, viewer)
        memos = await pages.code_memos(session) if viewer.can_code else {}
    columns = sorted({key for per_code in counts.values() for key in per_code})
    return render(
        request,
        "codes.html",
        status,
        viewer,
        nodes=nodes,
        counts=counts,
        columns=columns,
        memos=memos,
        message=message,
        report=report or [],
    )


@router.get("/codes", response_class=HTMLResponse)
async def codes_page(request: Request) -> HTMLResponse:
    return await _codes_page(request)


@router.post("/codes", response_class=HTMLResponse)
async def add_code(request: Request) -> Response:
    form = await checked_form(request)
    parent = form.get("parent_id", "").strip()
    try:
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            await coding.add_code(
                session,
                viewer,
                form.get("name", ""),
                parent_id=strict_id(parent),
                color=form.get("color", "#1f77b4"),
                description=form.get("description", ""),
            )
    except UsageError as error:
        return await _codes_page(request, str(error), 400)
    return redirect("/review/codes")


@router.post("/codes/import", response_class=HTMLResponse)
async def import_codebook(request: Request) -> Response:
    """Merge an uploaded codebook (.qdc, .qdpx, Taguette CSV); "Preview" changes nothing."""
    form, filename, data = await checked_upload(request, codebook_import.MAX_CODEBOOK_BYTES)
    preview = form.get("action") != "import"
    try:
        if not filename:
            raise UsageError("Choose a codebook file to import.")
        codes = codebook_import.read_codebook(filename, data)
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            if not viewer.can_code:
                raise UsageError("Only researchers and admins change the codebook.")
            plan = await codebook_import.plan_merge(session, codes)
            if not preview:
                await codebook_import.apply_merge(session, viewer, plan)
                session.add(
                    AuditLog(
                        actor=viewer.actor,
                        action="codebook_import",
                        target=filename[:320],
                        details={"added": len(plan.added), "described": len(plan.described)},
                    )
                )
    except UsageError as error:
        return await _codes_page(request, str(error), 400)
    done = "Preview, nothing changed yet" if preview else f"Imported {filename}"
    return await _codes_page(request, f"{done}: {plan.summary()[0]}", report=plan.summary()[1:])


@router.post("/codes/{code_id}", response_class=HTMLResponse)
async def edit_code(request: Request, code_id: CodeId) -> Response:
    form = await checked_form(request)
    try:
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            code = await session.get(Code, code_id)
            if code is None:
                return not_found(request, viewer)
            await coding.update_code(
                session,
                viewer,
                code,
                name=form.get("name", ""),
                color=form.get("color", ""),
                description=form.get("description", ""),
            )
    except UsageError as error:
        return await _codes_page(request, str(error), 400)
    return redirect(f"/review/codes#code-{code_id}")


@router.post("/codes/{code_id}/memos", response_class=HTMLResponse)
async def add_code_memo(request: Request, code_id: CodeId) -> Response:
    form = await checked_form(request)
    try:
        async with services_of(request).sessions() as session, session.begin():
            viewer = await current_viewer(request, session)
            if await session.get(Code, code_id) is None:
                return not_found(request, viewer)
            await coding.add_memo(session, viewer, form.get("text", ""), code_id=code_id)
    except UsageError as error:
        return await _codes_page(request, str(error), 400)
    return redirect(f"/review/codes#code-{code_id}")
