"""Every read of a reflection, an evidence file, search results or an export is in the audit log
(who, what, when; never the words), and only admins can read the log."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditLog
from tests.review.conftest import GAELIC, World, marker
from tests.review.helpers import client, csrf, run_cli, sign_in, with_services


async def _log(world: World) -> list[AuditLog]:
    async with world.services.sessions() as session:
        return list((await session.scalars(select(AuditLog).order_by(AuditLog.id))).all())


async def test_every_read_of_a_reflection_evidence_search_and_export_is_in_the_audit_log(
    world: World,
) -> None:
    team = world.reflections[("fife", "team")]
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        before = len(await _log(world))
        await http.get(f"/review/reflections/{team}")
        await http.get(f"/review/reflections/{world.gaelic}")
        await http.get(f"/review/evidence/{world.photo}")
        await http.get("/review/reflections", params={"q": "marker", "phase": "scoping"})
        token = await csrf(http, "/review/export")
        await http.post("/review/export", data={"csrf": token, "format": "csv"})
        refused = await http.get(f"/review/reflections/{world.reflections[('fife', 'private')]}")
    assert refused.status_code == 404
    entries = (await _log(world))[before:]
    researcher = f"user:{world.users['researcher']}"
    reads = [(e.actor, e.action, e.target) for e in entries if e.action != "search"]
    assert (researcher, "read_reflection", f"reflection:{team}") in reads
    assert (researcher, "read_reflection", f"reflection:{world.gaelic}") in reads
    assert (researcher, "read_evidence", f"attachment:{world.photo}") in reads
    assert any(a == "export_csv" for _, a, _ in reads)
    assert not any(t == f"reflection:{world.reflections[('fife', 'private')]}" for *_, t in reads)
    searches = [e for e in entries if e.action == "search" and e.details["filters"].get("q")]
    assert len(searches) == 1
    assert searches[0].details["filters"] == {"q": "marker", "phase": "scoping"}
    assert team in searches[0].details["shown"]
    assert all(e.at is not None and e.at <= datetime.now(UTC) for e in entries)
    words = " ".join(f"{e.target} {e.details}" for e in entries)
    assert marker("fife", "team") not in words and GAELIC not in words, "never the words"


async def test_only_admins_can_open_the_audit_log_and_it_filters(world: World) -> None:
    for role in ("researcher", "lead", "dundee-lead"):
        async with client(world.services) as http:
            await sign_in(http, f"{role}@example.org")
            assert (await http.get("/review/audit")).status_code == 404, role
            listing = await http.get("/review/reflections")
            assert 'href="/review/audit"' not in listing.text, role
    async with client(world.services) as http:
        await sign_in(http, "admin@example.org")
        await http.get(f"/review/reflections/{world.gaelic}")
        listing = await http.get("/review/reflections")
        assert 'href="/review/audit"' in listing.text
        page = await http.get("/review/audit", params={"action": "read_reflection"})
        everything = await http.get("/review/audit")
    assert page.status_code == 200
    assert f"reflection:{world.gaelic}" in page.text and "admin@example.org" in page.text
    assert 'data-audit-action="sign_in"' not in page.text
    assert 'data-audit-action="sign_in"' in everything.text


def test_carbot_audit_prints_and_writes_csv_with_filters(
    cli_world: World,
    tmp_path: Path,
) -> None:
    async def read(services: Services) -> None:
        async with client(services) as http:
            await sign_in(http, "researcher@example.org")
            await http.get(f"/review/reflections/{cli_world.gaelic}")

    with_services(cli_world, read)
    printed = run_cli("audit", "--actor", "researcher@example.org", "--action", "read_reflection")
    assert f"reflection:{cli_world.gaelic}" in printed.output
    assert "researcher@example.org" in printed.output
    none = run_cli("audit", "--action", "read_reflection", "--to", "2020-01-01")
    assert "No audit entries match." in none.output
    out = tmp_path / "audit.csv"
    run_cli("audit", "--from", datetime.now(UTC).date().isoformat(), "--csv", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"sign_in", "read_reflection"} <= {r["action"] for r in rows}
    assert all(r["at_utc"].endswith("Z") for r in rows)
