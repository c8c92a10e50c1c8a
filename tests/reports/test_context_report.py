"""The context report: each section holds the right reflections for each viewer, and none it may
not show; the evidence-gap table counts what the viewer may see; the .docx and PDF read back."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document

from adapters.errors import PdfUnavailable, ReportNotFound
from bot.reports.context import ContextReport, build_context_report
from bot.reports.render import chromium, render_docx, render_html, render_pdf
from prompts.library import load_library
from storage.models import AUDIENCES
from tests.reports.conftest import NAMES, SPECS, ReportWorld

ROLES = ("admin", "researcher", "lead")
# What each role's report shows, by marker (the audience matrix of bot.review.access + the
# small-n rule: Dan wrote the only anonymous reflection of his week, so a lead never sees it).
SHOWN = {
    "admin": {s.marker for s in SPECS if s.audience != "private"},
    "researcher": {s.marker for s in SPECS if s.audience != "private"},
    "lead": {
        "bg-team-amy", "evidence-team-amy", "coded-team-ben", "scale-team-cat",
        "gaps-anon-amy", "gaps-anon-ben", "gaps-anon-cat",
    },
}  # fmt: skip
QUOTED_IN_PERIOD = {s.marker for s in SPECS if s.kind != "scale" and s.marker != "after-event-amy"}
EXPECTED_SECTIONS = {
    "background": {"bg-team-amy"},
    "status": {"status-researchers-ben"},
    "challenges": {"coded-researchers-amy", "challenges-private-cat"},
    "evidence": {"evidence-anon-dan", "evidence-team-amy"},
    "gaps": {"coded-team-ben", "gaps-anon-amy", "gaps-anon-ben", "gaps-anon-cat"},
}
HEADINGS = [
    "Aims and research questions",
    "Where the cycle is",
    "Background",
    "Current status",
    "Immediate challenges",
    "Evidence that informed the work",
    "Evidence gaps",
    "Evidence inventory",
    "Evidence-gap table",
]


async def report_for(world: ReportWorld, role: str) -> ContextReport:
    viewer = await world.viewer(role)
    async with world.services.sessions() as session:
        return await build_context_report(
            session, viewer, load_library(None), "fife-hub", "retreat"
        )


def markers(report: ContextReport, topic: str) -> set[str]:
    return {quote.text for quote in report.sections[topic]}


@pytest.mark.parametrize("role", ROLES)
async def test_each_section_holds_the_reflections_this_viewer_may_see_and_no_others(
    report_world: ReportWorld, role: str
) -> None:
    report = await report_for(report_world, role)
    for topic, expected in EXPECTED_SECTIONS.items():
        assert markers(report, topic) == expected & SHOWN[role] & QUOTED_IN_PERIOD, topic
    everything = {quote.text for quotes in report.sections.values() for quote in quotes}
    assert "challenges-private-cat" not in everything and "dundee-team" not in everything
    assert "scale-team-cat" not in everything  # ratings are never quoted
    assert "after-event-amy" not in everything  # the period ends the day before the event
    assert report.period[0].isoformat() == "2027-01-04"
    assert report.period[1].isoformat() == "2027-03-15"
    assert report.aims == "Aims-marker."
    assert report.research_questions == ["What helps families?", "Who shapes the hub?"]
    assert report.cycle_now.startswith("Cycle 1, phase 2 of 3: Exploring evidence")


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("role", ROLES)
async def test_every_audience_reaches_exactly_the_roles_it_is_for(
    report_world: ReportWorld, role: str, audience: str
) -> None:
    report = await report_for(report_world, role)
    html = render_html(report)
    docx_text = _docx_text(render_docx(report))
    for spec in SPECS:
        if spec.audience != audience or spec.kind == "scale" or spec.marker == "after-event-amy":
            continue
        shown = spec.marker in SHOWN[role]
        assert (spec.marker in html) is shown, (spec.marker, role)
        assert (spec.marker in docx_text) is shown, (spec.marker, role)


async def test_a_lead_sees_names_only_on_team_reflections_and_anonymous_ones_without_date(
    report_world: ReportWorld,
) -> None:
    report = await report_for(report_world, "lead")
    quotes = {q.text: q for quotes in report.sections.values() for q in quotes}
    assert quotes["bg-team-amy"].author == NAMES["amy"]
    for marker in ("gaps-anon-amy", "gaps-anon-ben", "gaps-anon-cat"):
        assert quotes[marker].author is None and quotes[marker].day is None
    html = render_html(report)
    assert not [code for code in report_world.codes.values() if code in html]
    gaps = [q.text for q in report.sections["gaps"]]
    assert gaps[0] == "coded-team-ben"  # named and dated first, anonymous after, unlinkably


async def test_researchers_see_authors_by_study_code_never_by_name(
    report_world: ReportWorld,
) -> None:
    report = await report_for(report_world, "researcher")
    html = render_html(report)
    assert not [name for name in NAMES.values() if name in html]
    quotes = {q.text: q for quotes in report.sections.values() for q in quotes}
    assert quotes["status-researchers-ben"].author == report_world.codes["ben"]


async def test_another_projects_lead_gets_no_report(report_world: ReportWorld) -> None:
    viewer = await report_world.viewer("other-lead")
    async with report_world.services.sessions() as session:
        with pytest.raises(ReportNotFound):
            await build_context_report(session, viewer, load_library(None), "fife-hub", "retreat")
        with pytest.raises(ReportNotFound):
            await build_context_report(
                session, await report_world.viewer("admin"), load_library(None), "fife-hub", "x"
            )


async def test_the_evidence_inventory_lists_files_with_captions_for_those_who_may_see_them(
    report_world: ReportWorld,
) -> None:
    researcher = await report_for(report_world, "researcher")
    assert [(e.filename, e.caption) for e in researcher.evidence] == [
        ("dan.png", "evidence-anon-dan"),
        ("map.png", "evidence-team-amy"),
    ]
    assert all((e.link or "").startswith("/review/evidence/") for e in researcher.evidence)
    lead = await report_for(report_world, "lead")
    assert [e.filename for e in lead.evidence] == ["map.png"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "researcher",
            # rows: rq1, rq2, no question; cells: (reflections, evidence) per phase
            [[(2, 0), (3, 1), None], [(1, 1), (3, 0), None], [(0, 0), (1, 0), None]],
        ),
        ("lead", [[(1, 0), (3, 1), None], [(0, 0), (3, 0), None], [(0, 0), (0, 0), None]]),
    ],
)
async def test_the_evidence_gap_table_counts_each_question_and_phase_and_flags_thin_ones(
    report_world: ReportWorld, role: str, expected: list[list[tuple[int, int] | None]]
) -> None:
    report = await report_for(report_world, role)
    assert report.gap_phases == ["Scoping", "Exploring evidence", "Testing change"]
    assert [row.question for row in report.gaps] == [
        "What helps families?",
        "Who shapes the hub?",
        "No research question",
    ]
    counts = [
        [(c.reflections, c.evidence) if c.started else None for c in row.cells]
        for row in report.gaps
    ]
    assert counts == expected
    thin = [[c.thin for c in row.cells] for row in report.gaps]
    # thin: fewer than three reflections or no evidence, in a phase that has begun
    assert thin == [
        [True, False, False],
        [True, True, False],
        [True, True, False],
    ]
    assert report.thin_count == 5


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


async def test_the_docx_opens_with_the_reports_headings_and_an_editable_gap_table(
    report_world: ReportWorld,
) -> None:
    report = await report_for(report_world, "lead")
    doc = Document(io.BytesIO(render_docx(report)))
    styles = [(p.style.name if p.style is not None else "", p.text) for p in doc.paragraphs]
    assert [text for style, text in styles if (style or "").startswith("Heading")] == HEADINGS
    title = [text for style, text in styles if style == "Title"]
    assert title == ["Context report: Fife family hub"]
    gap_table = doc.tables[-1]
    assert [c.text for c in gap_table.rows[0].cells] == [
        "Research question",
        "Scoping",
        "Exploring evidence",
        "Testing change",
    ]
    assert [c.text for c in gap_table.rows[1].cells][1:] == ["1 / 0 ⚠ thin", "3 / 1", "not begun"]


async def test_the_pdf_has_the_reports_headings(report_world: ReportWorld) -> None:
    if chromium() is None and os.environ.get("CI") != "true":
        pytest.skip("PDF needs headless Chromium (Debian's chromium); CI installs it")
    from pypdf import PdfReader

    report = await report_for(report_world, "lead")
    try:
        data = render_pdf(render_html(report))
    except PdfUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = " ".join(text.split())
    for heading in ["Context report: Fife family hub", *HEADINGS]:
        assert heading in text, heading
    assert "bg-team-amy" in text and "challenges-private-cat" not in text


async def test_libreoffice_converts_the_docx_to_pdf_when_it_is_installed(
    report_world: ReportWorld, tmp_path: Path
) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed here")
    source = tmp_path / "report.docx"
    source.write_bytes(render_docx(await report_for(report_world, "lead")))
    await asyncio.to_thread(
        subprocess.run,
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "report.pdf").pages)
    assert "Evidence-gap table" in " ".join(text.split())
