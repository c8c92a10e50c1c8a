from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys
import time

import tests.bench as package


def main(selected: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("bench_")
    )
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        for line in asyncio.run(module.main()):
            print(f"  {line}", flush=True)
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
