"""Run the benchmarks under bench/ (all, or those named) and print side-by-side figures.

    .venv/bin/python bench/run.py            # every bench_*.py
    .venv/bin/python bench/run.py unpack     # bench_unpack.py only
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(names: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names or m in names]
    for name in modules:
        mod = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        for result in mod.run():
            print(result.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
