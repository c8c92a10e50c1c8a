"""The delivery life has one home: every status change is a move of ``bot.engine.deliveries``."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from adapters.errors import IllegalMove
from bot.engine.deliveries import (
    RETURNABLE,
    TRANSITIONS,
    move,
    transition_for,
    transition_table,
    why,
)
from bot.services import Services
from storage.db import transaction
from storage.models import DELIVERY_STATUSES, Delivery
from tests.engine.world import TUESDAY_MORNING, make_world, plan

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "adapters", "prompts", "storage", "digests")
HOME = ROOT / "bot" / "engine" / "deliveries.py"
RAW_SQL = re.compile(r"update\s+deliveries\b", re.IGNORECASE)
NOW = TUESDAY_MORNING


def _updates_delivery(node: ast.expr) -> bool:
    """True when a chain of calls starts with ``update(Delivery)``."""
    while True:
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
            target = ast.unparse(node.args[0]) if node.args else ""
            if name == "update" and target in ("Delivery", "Delivery.__table__"):
                return True
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return False


def raw_status_changes(source: str) -> list[str]:
    """Places in ``source`` that change a delivery's status without :func:`move`."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "values" and _updates_delivery(node.func.value):
                keys = [k.arg for k in node.keywords]
                if "status" in keys or None in keys:  # None: **values, which may hold it
                    found.append(f"{where}: update(Delivery).values(status=…)")
            if node.func.attr == "on_conflict_do_update" and "Delivery" in source:
                found.append(f"{where}: an upsert that may rewrite a delivery")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and "deliver" in ast.unparse(target.value).lower()
                ):
                    found.append(f"{where}: {ast.unparse(target)} = …")
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and RAW_SQL.search(text):
            found.append(f"{where}: raw SQL updating deliveries")
    return found


def test_no_code_outside_the_delivery_module_changes_a_delivery_status_by_hand() -> None:
    offenders = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == HOME:
                continue
            for place in raw_status_changes(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)} {place}")
    assert offenders == []


@pytest.mark.parametrize(
    "snippet",
    [
        "update(Delivery).where(Delivery.id == 1).values(status='sent')",
        "sa.update(Delivery.__table__).values(status='sent')",
        "await s.execute(update(Delivery).where(x).values(**changes))",
        "delivery.status = 'skipped'",
        "insert(Delivery.__table__).on_conflict_do_update(set_={'status': 'planned'})",
        "text('UPDATE deliveries SET status = :s')",
    ],
)
def test_the_guard_catches_each_kind_of_raw_status_change(snippet: str) -> None:
    assert raw_status_changes(snippet) != []


def test_the_guard_lets_other_updates_of_deliveries_through() -> None:
    snippet = "update(Delivery).where(Delivery.id == 1).values(reminder_ref=ref)"
    assert raw_status_changes(snippet) == []


def test_every_state_of_the_table_is_a_state_the_database_allows() -> None:
    states = {state for t in TRANSITIONS for state in (*t.sources, t.to)}
    assert states <= set(DELIVERY_STATUSES)
    assert set(DELIVERY_STATUSES) - {"planned"} <= {t.to for t in TRANSITIONS}


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("withdrawn", "skipped"),
        ("paused", "skipped"),
        ("skipped_by_person", "skipped"),
        ("awaiting_consent", "skipped"),
        ("leave", "cancelled"),
        ("hours", "cancelled"),
        ("phase", "cancelled"),
        ("left", "cancelled"),
        ("window_passed", "cancelled"),
    ],
)
def test_each_cause_of_a_call_off_ends_in_one_status(cause: str, status: str) -> None:
    assert {t.to for t in TRANSITIONS if t.reason == cause} == {status}


def test_only_causes_that_can_be_taken_back_give_their_slot_back() -> None:
    assert set(RETURNABLE) == {"paused", "withdrawn", "leave", "hours", "phase", "left"}


def test_a_move_the_table_does_not_declare_is_refused() -> None:
    with pytest.raises(IllegalMove):
        transition_for("sent", "paused")
    with pytest.raises(IllegalMove):
        transition_for("answered", "skipped_by_person")


async def test_a_move_changes_exactly_its_row_and_stamps_the_time_and_reason(
    any_services: Services,
) -> None:
    services = any_services
    world = await make_world(services, people=2)
    mine = await plan(services, world, world.people[0], NOW)
    other = await plan(services, world, world.people[1], NOW)
    later = NOW + timedelta(minutes=5)

    async with transaction(services.sessions) as session:
        moved = await move(session, mine, "cancelled", "leave", later, expected_from="planned")
        again = await move(session, mine, "cancelled", "leave", later, expected_from="planned")

    async with services.sessions() as session:
        row, untouched = await session.get(Delivery, mine), await session.get(Delivery, other)
    assert (moved, again) == (True, False)
    assert row is not None and untouched is not None
    assert (row.status, row.status_reason, row.status_at) == ("cancelled", "leave", later)
    assert (row.cancelled_at, row.last_error) == (later, why("leave"))
    assert (untouched.status, untouched.status_reason) == ("planned", None)


async def test_a_move_from_a_state_the_row_has_left_meanwhile_changes_nothing(
    services: Services,
) -> None:
    world = await make_world(services)
    delivery_id = await plan(services, world, world.people[0], NOW)
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(status="expired")
        )

    async with transaction(services.sessions) as session:
        moved = await move(session, delivery_id, "skipped", "paused", NOW)

    async with services.sessions() as session:
        row = await session.get(Delivery, delivery_id)
    assert moved is False
    assert row is not None and row.status == "expired"


def test_the_readme_shows_the_transition_table_the_code_declares() -> None:
    readme = (ROOT / "README.md").read_text()
    assert transition_table() in readme
