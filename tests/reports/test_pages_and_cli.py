"""The context report on the review workspace and on the command line."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from bot.cli import main
from bot.reports.render import chromium
from tests.reports.conftest import NAMES, ReportWorld, build_report_world
from tests.review.helpers import audit_entries, audit_entries_of, client, sign_in
from tests.support.world import built_for_the_cli

PAGE = "/review/reports/context?project=fife-hub&event=retreat"


async def test_a_lead_gets_the_report_page_as_their_digest_would_show_it(
    report_world: ReportWorld,
) -> None:
    async with client(report_world.services) as http:
        await sign_in(http, "lead@example.org")
        dashboard = await http.get("/review/dashboard")
        assert 'href="/review/reports/context?project=fife-hub&amp;event=retreat"' in dashboard.text
        page = await http.get(PAGE)
        assert page.status_code == 200
        assert "bg-team-amy" in page.text and "gaps-anon-amy" in page.text
        for hidden in ("status-researchers-ben", "challenges-private-cat", "evidence-anon-dan"):
            assert hidden not in page.text
        assert "@page { size: A4" in page.text
        word = await http.get(PAGE + "&format=docx")
        assert word.status_code == 200
        assert "attachment" in word.headers["content-disposition"]
        text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
        assert "bg-team-amy" in text and "challenges-private-cat" not in text
        amy = report_world.ids["bg-team-amy"]
        assert f"http://127.0.0.1:8000/review/reflections/{amy}" in text  # links work offline


async def test_another_projects_lead_and_unknown_events_get_not_found(
    report_world: ReportWorld,
) -> None:
    async with client(report_world.services) as http:
        await sign_in(http, "dundee-lead@example.org")
        assert (await http.get(PAGE)).status_code == 404
        assert (await http.get(PAGE + "&format=docx")).status_code == 404
    async with client(report_world.services) as http:
        await sign_in(http, "admin@example.org")
        missing = "/review/reports/context?project=fife-hub&event=nope"
        assert (await http.get(missing)).status_code == 404
        assert (await http.get(PAGE + "&format=exe")).status_code == 400


async def test_signed_out_visitors_are_sent_to_sign_in(report_world: ReportWorld) -> None:
    async with client(report_world.services) as http:
        page = await http.get(PAGE)
        assert page.status_code == 303 and "/review/sign-in" in page.headers["location"]


@pytest.fixture
def cli_report_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReportWorld:
    return built_for_the_cli(tmp_path, monkeypatch, build_report_world)


def test_the_command_writes_the_leads_view_by_default_and_the_researchers_on_request(
    cli_report_world: ReportWorld, tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["report", "context", "--project", "fife-hub", "--event", "retreat"]
    lead = runner.invoke(main, base)
    assert lead.exit_code == 0, lead.output
    assert "bg-team-amy" in lead.output and "status-researchers-ben" not in lead.output
    assert NAMES["amy"] in lead.output
    target = tmp_path / "report.docx"
    researcher = runner.invoke(
        main, [*base, "--view", "researcher", "--format", "docx", "-o", str(target)]
    )
    assert researcher.exit_code == 0, researcher.output
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "status-researchers-ben" in text and "challenges-private-cat" not in text
    assert NAMES["amy"] not in text


def test_an_unknown_project_or_event_is_a_clear_error(cli_report_world: ReportWorld) -> None:
    result = CliRunner().invoke(
        main, ["report", "context", "--project", "fife-hub", "--event", "winter"]
    )
    assert result.exit_code == 1
    assert "Project 'fife-hub' takes part in no event 'winter'." in result.output


def test_pdf_without_chromium_says_what_to_install(
    cli_report_world: ReportWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARBOT_CHROMIUM", str(tmp_path / "no-such-browser"))
    result = CliRunner().invoke(
        main,
        ["report", "context", "--project", "fife-hub", "--event", "retreat", "--format", "pdf",
         "-o", str(tmp_path / "r.pdf")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "PDF needs headless Chromium" in result.output
    assert not (tmp_path / "r.pdf").exists()


async def test_the_page_offers_the_report_as_a_pdf(report_world: ReportWorld) -> None:
    if chromium() is None and os.environ.get("CI") != "true":
        pytest.skip("PDF needs headless Chromium (Debian's chromium); CI installs it")
    async with client(report_world.services) as http:
        await sign_in(http, "lead@example.org")
        pdf = await http.get(PAGE + "&format=pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


async def test_each_report_shown_or_downloaded_leaves_one_audit_line_and_a_refused_one_none(
    report_world: ReportWorld,
) -> None:
    async with client(report_world.services) as http:
        await sign_in(http, "dundee-lead@example.org")
        assert (await http.get(PAGE)).status_code == 404
    assert await audit_entries(report_world.services, "context_report") == []
    async with client(report_world.services) as http:
        await sign_in(http, "lead@example.org")
        assert (await http.get(PAGE)).status_code == 200
        shown = await audit_entries(report_world.services, "context_report")
        assert (await http.get(PAGE + "&format=docx")).status_code == 200
        both = await audit_entries(report_world.services, "context_report")
    (actor, target), *_ = both
    assert len(shown) == 1 and len(both) == 2
    assert actor.startswith("user:") and target == "project:fife-hub"


def test_the_command_leaves_one_audit_line_per_report_and_none_for_an_unknown_event(
    cli_report_world: ReportWorld,
) -> None:
    settings = cli_report_world.services.settings
    runner = CliRunner()
    base = ["report", "context", "--project", "fife-hub", "--event"]
    unknown = runner.invoke(main, [*base, "winter"])
    assert unknown.exit_code == 1
    assert audit_entries_of(settings, "context_report") == []
    shown = runner.invoke(main, [*base, "retreat"])
    assert shown.exit_code == 0, shown.output
    assert audit_entries_of(settings, "context_report") == [("cli", "project:fife-hub")]
