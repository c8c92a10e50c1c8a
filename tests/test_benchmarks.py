"""`make bench` runs every tests/bench/bench_*.py; each must at least import and offer main()."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import tests.bench as benches

NAMES = sorted(
    m.name for m in pkgutil.iter_modules(benches.__path__) if m.name.startswith("bench_")
)


def test_there_are_benchmarks() -> None:
    assert {"bench_fanout", "bench_planning", "bench_teams"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_benchmark_imports_and_has_an_async_main(name: str) -> None:
    module = importlib.import_module(f"tests.bench.{name}")
    assert inspect.iscoroutinefunction(module.main)
