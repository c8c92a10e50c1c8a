"""Benchmarks, run by ``make bench`` (``python -m tests.bench``), never by ``make test``.

Each ``tests/bench/bench_*.py`` module defines ``async def main() -> list[str]`` returning the
lines of its report; figures are ratios measured side by side in one run.
"""
