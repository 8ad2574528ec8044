"""Zone membership, drawn zone geometry and the demo agreement's round trip."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely

from agreement.agreement_testkit import (
    FRONT,
    QUARRY_CENTRE,
    STORAGE_CENTRE,
    T0,
    demo,
    demo_content,
    demo_sites,
    offset,
    small_content,
)
from truceline.agreement import (
    Agreement,
    AgreementError,
    AgreementFile,
    agreement_from_dict,
    agreement_json_schema,
    check_agreement,
    load_agreement,
    write_demo_agreement,
)
from truceline.agreement.demo import dump_yaml


def test_band_membership_by_distance_and_side() -> None:
    agreement = demo()
    assert agreement.zones_at(*offset(-500)) == sorted(
        ["disengagement", "west-15km", "west-50km", "west-70km", "west-140km"]
    )
    assert agreement.zones_at(*offset(16_000)) == sorted(["east-50km", "east-70km", "east-140km"])
    assert agreement.zones_at(*offset(-25_000)) == sorted(
        ["deep-rear", "west-50km", "west-70km", "west-140km"]
    )
    assert agreement.zones_at(*offset(-200_000)) == ["deep-rear"]
    # band edges: min_m inclusive, max_m exclusive
    assert "west-15km" in agreement.zones_at(*offset(-14_990))
    assert "west-15km" not in agreement.zones_at(*offset(-15_010))
    on_line = agreement.zones_at(30.0, 48.0)
    assert "disengagement" in on_line and "west-15km" not in on_line


def test_polygon_membership_includes_exempt_sites() -> None:
    agreement = demo()
    assert "quarry-a" in agreement.zones_at(*QUARRY_CENTRE)
    assert "store-w1" in agreement.zones_at(*STORAGE_CENTRE)
    assert "quarry-a" not in agreement.zones_at(*offset(-30_000, lat=48.5))
    mask = agreement.zone_mask("quarry-a", [QUARRY_CENTRE[0], 29.0], [QUARRY_CENTRE[1], 48.0])
    assert mask.tolist() == [True, False]


def test_unknown_zone_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no zone 'nowhere'"):
        demo().zone_geometry("nowhere")


def test_drawn_bands_agree_with_membership() -> None:
    agreement = demo()
    rng = np.random.default_rng(11)
    lons = rng.uniform(27.5, 32.5, 4000)
    lats = rng.uniform(46.0, 50.0, 4000)
    for zone_id in ("west-15km", "east-70km", "disengagement", "deep-rear", "quarry-a"):
        drawn = agreement.zone_geometry(zone_id)
        assert drawn.is_valid and not drawn.is_empty
        inside = shapely.intersects_xy(drawn, lons, lats)
        exact = agreement.zone_mask(zone_id, lons, lats)
        # drawing is accurate to tens of metres: disagreements only right at the edges
        differ = inside != exact
        if zone_id == "deep-rear":  # unbounded: drawn out to 20 + 150 km only
            differ &= agreement.distance_to_line_many(lons, lats) < 169_000.0
        if differ.any():
            boundary = shapely.get_exterior_ring(shapely.get_parts(drawn))
            for lon, lat in zip(lons[differ], lats[differ], strict=True):
                assert shapely.distance(shapely.union_all(boundary), shapely.Point(lon, lat)) < 1e-3
    assert agreement.zone_geometry("west-15km") is agreement.zone_geometry("west-15km")


def test_drawn_band_lies_on_its_side() -> None:
    agreement = demo()
    west = agreement.zone_geometry("west-50km")
    assert west.bounds[2] <= 30.0 + 1e-6
    # widest at the northern end of the line (49°N), where a degree is shortest
    assert west.bounds[0] == pytest.approx(offset(-50_000, lat=49.0)[0], abs=0.001)


def test_demo_round_trip(tmp_path: Path) -> None:
    path = write_demo_agreement(tmp_path, FRONT, effective_from=T0, **demo_sites())
    assert (tmp_path / "contact-line.geojson").is_file()
    assert check_agreement(path) == []
    loaded = load_agreement(path)
    assert loaded.parties == ("west", "east")
    assert loaded.left_party == "west" and loaded.right_party == "east"
    assert loaded.in_force(T0) and not loaded.in_force(T0 - timedelta(seconds=1))
    # the same terms inline give the same version id
    assert demo().version_id == loaded.version_id
    # the canonical form rebuilds the same agreement (as the evidence log does)
    again = Agreement.from_canonical(loaded.canonical())
    assert again.version_id == loaded.version_id and again.canonical() == loaded.canonical()


def test_editing_a_geometry_file_changes_the_version_id(tmp_path: Path) -> None:
    path = write_demo_agreement(tmp_path, FRONT)
    before = load_agreement(path).version_id
    line_file = tmp_path / "contact-line.geojson"
    feature = json.loads(line_file.read_text())
    feature["geometry"]["coordinates"][1][0] = 30.01
    line_file.write_text(json.dumps(feature))
    assert load_agreement(path).version_id != before
    # comments and formatting of the YAML do not change it
    feature["geometry"]["coordinates"][1][0] = 30.0
    line_file.write_text(json.dumps(feature))
    path.write_text("# amended text, same terms\n" + path.read_text())
    assert load_agreement(path).version_id == before


def test_demo_yaml_is_readable_and_valid(tmp_path: Path) -> None:
    text = dump_yaml(demo_content())
    assert "activities: [explosion, launch, impact, gunfire]" in text
    path = tmp_path / "inline.yaml"
    path.write_text(text)
    assert check_agreement(path) == []


def test_agreement_properties() -> None:
    agreement = agreement_from_dict(small_content())
    assert agreement.id == "small" and agreement.version == 1
    assert agreement.title == "small"
    assert agreement.zone_ids == ("buffer", "west-10km", "site")
    assert [r.id for r in agreement.rules] == ["no-fire", "no-tanks"]
    assert agreement.effective_until is None
    assert len(agreement.version_id) == 64
    assert repr(agreement).startswith("Agreement(id='small', version=1")
    with pytest.raises(ValueError, match="naive"):
        agreement.in_force(T0.replace(tzinfo=None))


def test_json_schema_comes_from_the_models() -> None:
    schema = agreement_json_schema()
    assert schema["additionalProperties"] is False
    assert "effective_from" in schema["required"]
    band = schema["$defs"]["Band"]
    assert "from" in band["properties"] and "metres" in band["properties"]["min_m"]["description"]
    assert AgreementFile.model_fields["zones"].description


def test_agreement_checks_specs_built_without_the_loader() -> None:
    content = small_content()
    content["rules"][1]["zone"] = "nowhere"
    spec = AgreementFile.model_validate(content)
    with pytest.raises(AgreementError, match=r"rules\[1\]\.zone: unknown zone 'nowhere'"):
        Agreement(spec, source="log entry 7")


def test_public_names() -> None:
    import truceline.agreement as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    assert sorted(package.__all__) == package.__all__


def test_drawn_bands_are_valid_polygons_on_winding_lines() -> None:
    """Buffered, clipped and reprojected bands used to self-intersect on some lines."""
    import numpy as np
    import shapely

    from truceline.agreement import agreement_from_dict, demo_agreement_dict
    from truceline.simulate.geography import build_geography

    for seed in (20, 22, 26):  # lines that produced self-intersecting 50/70 km bands
        geo = build_geography(np.random.default_rng(seed))
        agreement = agreement_from_dict(demo_agreement_dict(geo.line.geometry))
        for zone_id in agreement.zone_ids:
            drawn = agreement.zone_geometry(zone_id)
            assert drawn.is_valid, (seed, zone_id, shapely.is_valid_reason(drawn))
            assert drawn.geom_type in {"Polygon", "MultiPolygon"} and drawn.area > 0
