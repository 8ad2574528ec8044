"""Run every benchmark module and print one JSON object of named figures.

Each ``benchmarks/bench_*.py`` module exposes ``run() -> dict[str, object]``;
the figures are merged (prefixed by nothing: names must be unique), printed,
and written to ``--out`` (default ``bench-results.json``). Modules whose data
is missing return ``{"<name>_skipped": "<reason>"}`` instead of failing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", help="run only benchmarks whose module name contains this")
    args = parser.parse_args(argv)
    figures: dict[str, object] = {}
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("bench_*.py")):
        if args.only and args.only not in path.stem:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"running {path.stem} ...", file=sys.stderr)
        result = module.run()
        duplicate = sorted(set(result) & set(figures))
        if duplicate:
            raise RuntimeError(f"{path.stem}: figure names already used: {duplicate}")
        figures.update(result)
    text = json.dumps(figures, indent=2, sort_keys=True)
    print(text)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
