"""A context report as print-ready HTML (A4), an editable Word document, or PDF.

PDF is printed from the HTML by headless Chromium (Debian's ``chromium``, or the one the
``chromium`` setting names); without one, :class:`PdfUnavailable` says so and what to install.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.shared import Pt, RGBColor
from jinja2 import Environment, FileSystemLoader, select_autoescape

from adapters.errors import PdfUnavailable
from bot.reports.model import ContextReport, day_range

FORMATS = {
    "html": ("text/html; charset=utf-8", "html"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}
PDF_TIMEOUT = 60  # seconds

templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True),
)


def render_html(report: ContextReport, downloads: list[tuple[str, str]] | None = None) -> str:
    return templates.get_template("context.html").render(
        report=report, day_range=day_range, downloads=downloads or []
    )


def render_docx(report: ContextReport) -> bytes:
    """The report as a .docx with real headings and tables, for the team to edit and finish."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(report.title, level=0)
    doc.add_paragraph(
        f"{report.partnership} · prepared for {report.event} ({report.event_kind.lower()}, "
        f"{day_range(report.event_dates)}). Reflections from {day_range(report.period)}, "
        f"{report.seen_as}. A draft for the team to finish."
    )
    doc.add_heading("Aims and research questions", level=1)
    doc.add_paragraph(report.aims or "No aims written in the study file yet.")
    for question in report.research_questions:
        doc.add_paragraph(question, style="List Number")
    doc.add_heading("Where the cycle is", level=1)
    doc.add_paragraph(report.cycle_now)
    for topic, heading in report.section_titles:
        doc.add_heading(heading, level=1)
        quotes = report.sections[topic]
        if not quotes:
            doc.add_paragraph("Nothing gathered for this section yet.")
        for quote in quotes:
            doc.add_paragraph(quote.text, style="Intense Quote")
            details = [quote.author or "Anonymous"]
            if quote.day:
                details.append(quote.day.strftime("%d %b %Y"))
            details += [part for part in (quote.phase, quote.question) if part]
            if quote.evidence:
                details.append("evidence: " + ", ".join(quote.evidence))
            if quote.link:
                details.append(quote.link)
            run = doc.add_paragraph().add_run(" · ".join(details))
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
    doc.add_heading("Evidence inventory", level=1)
    if not report.evidence:
        doc.add_paragraph("No photos or files came in during the period.")
    else:
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells,
            ("Kind", "File", "Caption", "Phase", "Research question"),
            strict=True,
        ):
            cell.text = text
        for item in report.evidence:
            row = table.add_row().cells
            name = item.filename + (f"\n{item.link}" if item.link else "")
            for cell, text in zip(
                row, (item.kind, name, item.caption, item.phase, item.question), strict=True
            ):
                cell.text = text
    doc.add_heading("Evidence-gap table", level=1)
    if not report.gaps:
        doc.add_paragraph("No cycle has begun, so there is nothing to count yet.")
    else:
        doc.add_paragraph(
            f"{report.gap_cycle}, up to {report.period[1]:%d %b %Y}: reflections / evidence files "
            "per research question and phase. Thin: fewer than 3 reflections or no evidence in a "
            f"phase that has begun. {report.thin_count} thin."
        )
        table = doc.add_table(rows=1, cols=len(report.gap_phases) + 1)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells, ["Research question", *report.gap_phases], strict=True
        ):
            cell.text = text
        for gap in report.gaps:
            row = table.add_row().cells
            row[0].text = gap.question
            for cell, counts in zip(row[1:], gap.cells, strict=True):
                if not counts.started:
                    cell.text = "not begun"
                else:
                    thin = " ⚠ thin" if counts.thin else ""
                    cell.text = f"{counts.reflections} / {counts.evidence}{thin}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def chromium(named: str | None = None) -> str | None:
    """The Chromium to print with: ``named`` (a path or command) if given, else one on PATH."""
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(html: str, named: str | None = None) -> bytes:
    """Print the HTML to an A4 PDF with headless Chromium (``named``: the ``chromium`` setting)."""
    binary = chromium(named)
    if binary is None:
        raise PdfUnavailable(
            "PDF needs headless Chromium (Debian: apt-get install chromium), and none was found; "
            "use --format html and print it, or --format docx"
        )
    with tempfile.TemporaryDirectory(prefix="carbot-report-") as folder:
        source = Path(folder) / "report.html"
        target = Path(folder) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium could not print the PDF: {exc}") from exc
        if not target.is_file() or target.stat().st_size == 0:
            raise PdfUnavailable("Chromium ran but wrote no PDF")
        return target.read_bytes()
