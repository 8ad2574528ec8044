"""Every kind of problem in an agreement file is reported with the right field path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agreement.agreement_testkit import small_content, write_yaml
from truceline.agreement import (
    AgreementError,
    AgreementIssue,
    check_agreement,
    check_agreement_dict,
    format_issues,
    load_agreement,
)
from truceline.model.errors import TrucelineError

Edit = Callable[[dict[str, Any]], None]


def issues_after(tmp_path: Path, edit: Edit) -> list[AgreementIssue]:
    content = small_content()
    edit(content)
    return check_agreement(write_yaml(tmp_path, content))


def find(issues: list[AgreementIssue], path: str, *words: str) -> AgreementIssue:
    for issue in issues:
        if issue.path == path and all(w.lower() in issue.message.lower() for w in words):
            return issue
    raise AssertionError(
        f"no issue at {path!r} mentioning {words}; got:\n" + "\n".join(map(str, issues))
    )


def line_coords(content: dict[str, Any]) -> list[list[float]]:
    coords: list[list[float]] = content["contact_line"]["geometry"]["coordinates"]
    return coords


def site_ring(content: dict[str, Any]) -> list[list[float]]:
    ring: list[list[float]] = content["zones"][2]["polygon"]["coordinates"][0]
    return ring


def test_small_agreement_is_valid(tmp_path: Path) -> None:
    assert check_agreement(write_yaml(tmp_path, small_content())) == []


# -- schema ---------------------------------------------------------------------------------

CASES: list[tuple[str, Edit, str, tuple[str, ...]]] = [
    (
        "unknown root key",
        lambda c: c.update(colour="blue"),
        "colour",
        ("unknown key",),
    ),
    (
        "unknown nested key with suggestion",
        lambda c: c["zones"][0]["band"].update(max_km=3),
        "zones[0].band.max_km",
        ("unknown key", "did you mean 'max_m'"),
    ),
    (
        "missing required key",
        lambda c: c["rules"][0].pop("severity"),
        "rules[0].severity",
        ("missing",),
    ),
    (
        "unknown activity kind",
        lambda c: c["rules"][0]["activities"].append("explosions"),
        "rules[0].activities[2]",
        ("unknown activity kind", "did you mean 'explosion'"),
    ),
    (
        "unknown weapon class",
        lambda c: c["rules"][1]["weapon_classes"].append("howitzer"),
        "rules[1].weapon_classes[1]",
        ("unknown weapon class",),
    ),
    (
        "unknown severity",
        lambda c: c["rules"][0].update(severity="grave"),
        "rules[0].severity",
        ("unknown severity",),
    ),
    (
        "confidence above one",
        lambda c: c["rules"][0].update(min_confidence=1.5),
        "rules[0].min_confidence",
        ("less than or equal to 1",),
    ),
    (
        "wrong format tag",
        lambda c: c.update(format="truceline-agreement/9"),
        "format",
        ("truceline-agreement/1",),
    ),
    (
        "naive time",
        lambda c: c.update(effective_from="2026-11-01T00:00:00"),
        "effective_from",
        ("no UTC offset",),
    ),
    (
        "zone with two shapes",
        lambda c: c["zones"][2].update(band={"from": "contact_line", "side": "both", "max_m": 5}),
        "zones[2]",
        ("exactly one of",),
    ),
    # -- references ----------------------------------------------------------------------
    (
        "duplicate party id",
        lambda c: c["parties"].append({"id": "west"}),
        "parties[2].id",
        ("duplicate party id 'west'",),
    ),
    (
        "duplicate zone id",
        lambda c: c["zones"].append(dict(c["zones"][0])),
        "zones[3].id",
        ("duplicate zone id 'buffer'",),
    ),
    (
        "duplicate rule id",
        lambda c: c["rules"][1].update(id="no-fire"),
        "rules[1].id",
        ("duplicate rule id",),
    ),
    (
        "unknown party on the line",
        lambda c: c["contact_line"].update(right_party="easst"),
        "contact_line.right_party",
        ("unknown party 'easst'", "did you mean 'east'"),
    ),
    (
        "unknown party as band side",
        lambda c: c["zones"][1]["band"].update(side="north"),
        "zones[1].band.side",
        ("unknown side",),
    ),
    (
        "unknown party in band origin",
        lambda c: c["zones"][1]["band"].update({"from": "reference_line:north"}),
        "zones[1].band.from",
        ("unknown party 'north'",),
    ),
    (
        "bad band origin",
        lambda c: c["zones"][1]["band"].update({"from": "frontline"}),
        "zones[1].band.from",
        ("expected 'contact_line' or 'reference_line:<party>'",),
    ),
    (
        "unknown zone owner",
        lambda c: c["zones"][2].update(party="south"),
        "zones[2].party",
        ("unknown party",),
    ),
    (
        "unknown rule side",
        lambda c: c["rules"][0].update(sides=["west", "nord"]),
        "rules[0].sides[1]",
        ("unknown party 'nord'",),
    ),
    (
        "reference line of unknown party",
        lambda c: c.update(reference_lines={"north": {"geometry": c["contact_line"]["geometry"]}}),
        "reference_lines.north",
        ("unknown party",),
    ),
    (
        "unknown rule zone",
        lambda c: c["rules"][1].update(zone="west-15km"),
        "rules[1].zone",
        ("unknown zone 'west-15km'", "did you mean 'west-10km'"),
    ),
    (
        "unknown exempt zone",
        lambda c: c["rules"][0].update(exempt_zones=["site", "quarry"]),
        "rules[0].exempt_zones[1]",
        ("unknown zone 'quarry'",),
    ),
    (
        "min_m not below max_m",
        lambda c: c["zones"][0]["band"].update(min_m=2000),
        "zones[0].band.max_m",
        ("must be greater than min_m",),
    ),
    (
        "effective_until before effective_from",
        lambda c: c.update(effective_until="2026-10-01T00:00:00Z"),
        "effective_until",
        ("must be after effective_from",),
    ),
    (
        "rule window inverted",
        lambda c: c["rules"][0].update(
            active={"from": "2026-12-01T00:00:00Z", "until": "2026-11-15T00:00:00Z"}
        ),
        "rules[0].active.until",
        ("must be after",),
    ),
    (
        "unknown escalation level in policy",
        lambda c: c["escalation"]["policy"][0].update(level="alarm"),
        "escalation.policy[0].level",
        ("unknown escalation level 'alarm'",),
    ),
    (
        "unknown default level",
        lambda c: c["escalation"].update(default="none"),
        "escalation.default",
        ("unknown escalation level",),
    ),
    (
        "unknown level in notify",
        lambda c: c["escalation"]["notify"].update(attack=["x"]),
        "escalation.notify.attack",
        ("unknown escalation level",),
    ),
    (
        "unknown rule in policy",
        lambda c: c["escalation"]["policy"][0]["when"].update(rules=["deep-strike"]),
        "escalation.policy[0].when.rules[0]",
        ("unknown rule",),
    ),
    (
        "unknown severity in policy",
        lambda c: c["escalation"]["policy"][0]["when"].update(min_severity="high"),
        "escalation.policy[0].when.min_severity",
        ("unknown severity",),
    ),
    # -- geometry --------------------------------------------------------------------------
    (
        "line with one point",
        lambda c: c["contact_line"]["geometry"].update(coordinates=[[30.0, 47.0]]),
        "contact_line.geometry.coordinates",
        ("at least 2",),
    ),
    (
        "line crossing itself",
        lambda c: c["contact_line"]["geometry"].update(
            coordinates=[[30.0, 47.0], [30.0, 48.0], [30.2, 48.0], [29.9, 47.5]]
        ),
        "contact_line.geometry.coordinates[0]",
        ("crosses itself at lon 30.0, lat 47.666667", "coordinates[2]"),
    ),
    (
        "latitude and longitude swapped in a position",
        lambda c: line_coords(c).__setitem__(1, [48.0, 130.0]),
        "contact_line.geometry.coordinates[1]",
        ("latitude and longitude look swapped",),
    ),
    (
        "position outside the world",
        lambda c: line_coords(c).__setitem__(2, [200.0, 95.0]),
        "contact_line.geometry.coordinates[2]",
        ("outside the world",),
    ),
    (
        "polygon given as a line type",
        lambda c: c["contact_line"]["geometry"].update(type="Polygon"),
        "contact_line.geometry.type",
        ("expected LineString or MultiLineString",),
    ),
    (
        "clockwise exterior ring",
        lambda c: site_ring(c).reverse(),
        "zones[2].polygon.coordinates[0]",
        ("clockwise", "reverse"),
    ),
    (
        "unclosed ring",
        lambda c: site_ring(c).__delitem__(-1),
        "zones[2].polygon.coordinates[0]",
        ("not closed",),
    ),
    (
        "ring with three positions",
        lambda c: c["zones"][2]["polygon"].update(
            coordinates=[[[29.5, 48.0], [29.6, 48.0], [29.5, 48.0]]]
        ),
        "zones[2].polygon.coordinates[0]",
        ("at least 4",),
    ),
    (
        "self-intersecting polygon",
        lambda c: c["zones"][2]["polygon"].update(
            coordinates=[[[29.5, 48.0], [29.6, 48.1], [29.6, 48.0], [29.5, 48.1], [29.5, 48.0]]]
        ),
        "zones[2].polygon",
        ("self-intersection at lon 29.55, lat 48.05",),
    ),
    (
        "whole polygon with latitude and longitude swapped",
        lambda c: c["zones"][2]["polygon"].update(
            coordinates=[[[48.0, 29.5], [48.0, 29.6], [48.1, 29.6], [48.1, 29.5], [48.0, 29.5]]]
        ),
        "zones[2].polygon",
        ("latitude and longitude look swapped",),
    ),
    (
        "missing geometry file",
        lambda c: c["contact_line"].update(geometry=None, file="nowhere.geojson"),
        "contact_line.file",
        ("'nowhere.geojson' not found",),
    ),
]


@pytest.mark.parametrize(("name", "edit", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_problem_is_reported_at_its_path(
    tmp_path: Path, name: str, edit: Edit, path: str, words: tuple[str, ...]
) -> None:
    find(issues_after(tmp_path, edit), path, *words)


def test_multilinestring_positions_are_named_by_part_and_index(tmp_path: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["contact_line"]["geometry"] = {
            "type": "MultiLineString",
            "coordinates": [
                [[30.0, 46.0], [30.0, 46.5]],
                [[30.0, 47.0]] + [[30.0 + i * 0.01, 47.0 + i * 0.05] for i in range(1, 20)],
            ],
        }
        c["contact_line"]["geometry"]["coordinates"][1][17] = [48.5, 131.0]

    find(issues_after(tmp_path, edit), "contact_line.geometry.coordinates[1][17]", "swapped")


def test_all_problems_are_collected(tmp_path: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["rules"][0]["severity"] = "grave"
        c["rules"][1]["zone"] = "nowhere"
        site_ring(c).reverse()
        c["escalation"]["default"] = "none"

    issues = issues_after(tmp_path, edit)
    assert {i.path for i in issues} >= {
        "rules[0].severity",
        "rules[1].zone",
        "zones[2].polygon.coordinates[0]",
        "escalation.default",
    }


def test_issues_carry_yaml_lines_in_file_order(tmp_path: Path) -> None:
    content = small_content()
    content["rules"][1]["severity"] = "grave"
    content["zones"][0]["band"]["min_m"] = 5000
    path = write_yaml(tmp_path, content)
    issues = check_agreement(path)
    lines = path.read_text().splitlines()
    severity = find(issues, "rules[1].severity", "unknown severity")
    assert severity.line is not None and "severity: grave" in lines[severity.line - 1]
    band = find(issues, "zones[0].band.max_m")
    assert band.line is not None and "max_m" in lines[band.line - 1]
    assert [i.line for i in issues] == sorted(i.line or 0 for i in issues)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("format: truceline-agreement/1\nid: x\nparties: [west, east\nversion: 1\n")
    (issue,) = check_agreement(path)
    assert issue.line is not None and issue.line >= 3
    assert "YAML syntax error at line" in issue.message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, small_content())
    path.write_text(path.read_text() + "version: 2\n")
    issue = find(check_agreement(path), "version", "duplicate key")
    assert issue.line == len(path.read_text().splitlines())


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert "empty" in check_agreement(empty)[0].message
    assert "file not found" in check_agreement(tmp_path / "absent.yaml")[0].message
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    assert "expected a mapping" in check_agreement(listing)[0].message


def test_problems_inside_a_geojson_file_are_located(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "LineString",
            "coordinates": [[30.0, 47.0], [30.0, 48.0], [48.0, 130.0]],
        },
    }
    (tmp_path / "line.geojson").write_text(json.dumps(feature))
    (tmp_path / "bad.geojson").write_text("{not json")

    def edit(c: dict[str, Any]) -> None:
        c["contact_line"] = {"file": "line.geojson", "left_party": "west", "right_party": "east"}
        c["reference_lines"] = {"west": {"file": "bad.geojson"}}

    issues = issues_after(tmp_path, edit)
    find(issues, "contact_line.file(line.geojson).geometry.coordinates[2]", "swapped")
    find(issues, "reference_lines.west.file", "not valid JSON", "line 1")


def test_feature_collection_files_are_merged(tmp_path: Path) -> None:
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[30.0, 47.0], [30.0, 48.0]]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[29.9, 47.5], [30.1, 47.5]]},
            },
        ],
    }
    (tmp_path / "line.geojson").write_text(json.dumps(features))

    def edit(c: dict[str, Any]) -> None:
        c["contact_line"] = {"file": "line.geojson", "left_party": "west", "right_party": "east"}

    find(
        issues_after(tmp_path, edit),
        "contact_line.file(line.geojson).features[0].geometry.coordinates[0]",
        "crosses itself",
        "features[1].geometry.coordinates[0]",
    )


def test_load_raises_error_naming_file_and_issues(tmp_path: Path) -> None:
    content = small_content()
    content["rules"][0]["severity"] = "grave"
    path = write_yaml(tmp_path, content)
    with pytest.raises(AgreementError) as caught:
        load_agreement(path)
    error = caught.value
    assert isinstance(error, TrucelineError)
    assert str(path) in str(error) and "rules[0].severity" in str(error)
    assert [i.path for i in error.issues] == ["rules[0].severity"]
    (line,) = format_issues(path, list(error.issues))
    assert line.startswith(f"{path}:") and "rules[0].severity: unknown severity" in line


def test_file_reference_needs_a_folder() -> None:
    content = small_content()
    content["contact_line"] = {"file": "x.geojson", "left_party": "west", "right_party": "east"}
    find(check_agreement_dict(content), "contact_line.file", "no folder")


def test_yaml_timestamps_dates_and_naive_times(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, small_content())
    text = path.read_text()
    quoted = "effective_from: '2026-11-01T00:00:00Z'"
    assert quoted in text
    path.write_text(text.replace(quoted, "effective_from: 2026-11-01"))
    assert load_agreement(path).effective_from.isoformat() == "2026-11-01T00:00:00+00:00"
    path.write_text(text.replace(quoted, "effective_from: 2026-11-01T02:00:00+02:00"))
    assert load_agreement(path).effective_from.isoformat() == "2026-11-01T00:00:00+00:00"
    path.write_text(text.replace(quoted, "effective_from: 2026-11-01T00:00:00"))
    find(check_agreement(path), "effective_from", "no UTC offset")


def _value_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path] if path else []
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        found += _value_paths(item, (*path, key))
    return found


def test_any_junk_value_gives_issues_never_a_crash() -> None:
    junk: list[Any] = [None, -5, 1.5, "x", [], {}, [[1, 2]], True, [None], {"a": 1}, "both"]
    base = small_content()
    for path in _value_paths(base):
        for value in junk:
            content = small_content()
            holder: Any = content
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = value
            issues = check_agreement_dict(content)
            assert all(isinstance(issue, AgreementIssue) for issue in issues)
