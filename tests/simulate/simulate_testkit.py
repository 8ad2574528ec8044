"""Readers of the simulator's output used by the simulate tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from truceline.model.geo import LocalFrame


def load_truth(out_dir: Path) -> dict[str, Any]:
    """The parsed ``truth.json``."""
    data: dict[str, Any] = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
    return data


def truth_frame(truth: dict[str, Any]) -> LocalFrame:
    """The metric frame named in the truth file."""
    return LocalFrame(truth["frame"]["lon0"], truth["frame"]["lat0"])


def features(path: Path) -> list[dict[str, Any]]:
    """Features of a GeoJSON FeatureCollection."""
    data = json.loads(path.read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = data["features"]
    return result


def records(out_dir: Path, folder: str, record: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``(file, feature)`` of every feature of one record type in ``out_dir/folder``."""
    for path in sorted((out_dir / folder).glob("*.geojson")):
        for feature in features(path):
            if feature["properties"].get("record", "observation") == record:
                yield path, feature


def firms_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a FIRMS CSV file."""
    with path.open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    return table[0], table[1:]


def all_bytes(out_dir: Path) -> dict[str, bytes]:
    """Every file under ``out_dir`` by relative path."""
    return {
        str(path.relative_to(out_dir)): path.read_bytes()
        for path in sorted(out_dir.rglob("*"))
        if path.is_file()
    }
