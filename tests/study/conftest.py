"""Helpers for the study-file tests: the demo study, edited copies of it, and a database dump."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.services import Services
from storage.models import Base

DEMO = Path(__file__).resolve().parents[2] / "examples" / "wws-demo.yaml"

Dump = dict[str, list[dict[str, Any]]]


async def dump(services: Services) -> Dump:
    """Every row of every table, ordered by primary key: two equal dumps are equal databases."""
    tables: Dump = {}
    async with services.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = await connection.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [dict(row._mapping) for row in rows]
    return tables


def demo_data() -> dict[str, Any]:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


@pytest.fixture
def write_study(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Write a study (as data) to a YAML file and give its path."""

    def write(data: dict[str, Any], name: str = "study.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
        return path

    return write


def project(data: dict[str, Any], slug: str) -> dict[str, Any]:
    for partnership in data["partnerships"]:
        for item in partnership["projects"]:
            if item["slug"] == slug:
                return item
    raise KeyError(slug)
