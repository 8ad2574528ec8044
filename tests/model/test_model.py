"""Core types: canonical ids, time, uncertainty ellipses, validation messages."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline.model import (
    BearingLocation,
    FootprintLocation,
    LocalFrame,
    Observation,
    PointLocation,
    RecordError,
    canonical_json,
    content_id,
    covariance_ellipse,
    format_utc,
    geodesic_distance_m,
    parse_utc,
)

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def test_canonical_json_is_key_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()
    assert content_id({"a": 1, "b": 2}) == content_id({"b": 2, "a": 1})


def test_canonical_json_refuses_nan_naming_the_path() -> None:
    with pytest.raises(ValueError, match=r"a\.b\[1\]"):
        canonical_json({"a": {"b": [1.0, math.nan]}})


def test_times_must_state_their_offset() -> None:
    assert parse_utc("2026-11-02T14:00:00+02:00") == T0
    assert parse_utc("2026-11-02") == T0 - timedelta(hours=12)
    assert format_utc(T0) == "2026-11-02T12:00:00Z"
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_utc("2026-11-02T12:00:00")


def test_ellipse_of_isotropic_and_rotated_covariances() -> None:
    circle = covariance_ellipse(1e6, 0.0, 1e6, 0.95)
    assert circle.semi_major_m == pytest.approx(1000 * math.sqrt(-2 * math.log(0.05)))
    assert circle.semi_major_m == pytest.approx(2447.7, abs=0.1)
    north = covariance_ellipse(100.0, 0.0, 400.0, 0.95)
    assert north.orientation_deg == pytest.approx(0.0)
    assert north.semi_major_m / north.semi_minor_m == pytest.approx(2.0)
    # 45 degrees: equal variances, positive correlation -> major axis to the north-east
    diagonal = covariance_ellipse(200.0, 150.0, 200.0, 0.5)
    assert diagonal.orientation_deg == pytest.approx(45.0)


def test_local_frame_round_trip_and_distances() -> None:
    frame = LocalFrame(37.5, 48.0)
    x, y = frame.point_to_local(37.6, 48.1)
    lon, lat = frame.point_to_geo(x, y)
    assert (lon, lat) == pytest.approx((37.6, 48.1), abs=1e-9)
    assert math.hypot(x, y) == pytest.approx(geodesic_distance_m(37.5, 48.0, 37.6, 48.1), rel=1e-6)


def test_location_validation_names_the_field() -> None:
    with pytest.raises(RecordError, match=r"location\.lat.*swapped"):
        PointLocation.isotropic(48.0, 137.5, 10.0)
    with pytest.raises(RecordError, match="positive semi-definite"):
        PointLocation(37.0, 48.0, 1.0, 5.0, 1.0)
    with pytest.raises(RecordError, match="self-intersecting"):
        FootprintLocation(((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(RecordError, match="azimuth"):
        BearingLocation(37.0, 48.0, 360.0, 1.0, 1000.0)


def test_observation_validation() -> None:
    point = PointLocation.isotropic(37.0, 48.0, 10.0)
    with pytest.raises(RecordError, match="unknown kind"):
        Observation("s", "drone", "ufo", T0, point)
    with pytest.raises(RecordError, match="time_end"):
        Observation("s", "drone", "crater", T0, point, time_end=T0 - timedelta(seconds=1))
    with pytest.raises(RecordError, match="timezone"):
        Observation("s", "drone", "crater", datetime(2026, 1, 1), point)  # noqa: DTZ001


locations = st.one_of(
    st.builds(
        PointLocation.isotropic,
        st.floats(-180, 180),
        st.floats(-90, 90),
        st.floats(0, 1e5),
    ),
    st.builds(
        BearingLocation,
        st.floats(-180, 180),
        st.floats(-90, 90),
        st.floats(0, 359.99),
        st.floats(0.1, 30),
        st.floats(1, 1e5),
    ),
)


@given(
    location=locations,
    seconds=st.integers(0, 10**9),
    sigma=st.floats(0, 1e4),
    confidence=st.floats(0, 1),
)
def test_observation_round_trip_keeps_its_id(
    location: PointLocation | BearingLocation, seconds: int, sigma: float, confidence: float
) -> None:
    obs = Observation(
        "sensor-1", "acoustic", "explosion", T0 + timedelta(seconds=seconds), location,
        time_sigma_s=sigma, attributes={"confidence": confidence},
    )  # fmt: skip
    again = Observation.from_dict(obs.to_dict())
    assert again == obs
    assert again.id == obs.id


attributes = st.dictionaries(
    st.text(max_size=8),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    max_size=4,
)


@given(
    location=locations,
    seconds=st.integers(0, 10**9),
    micro=st.integers(0, 999_999),
    sigma=st.one_of(st.floats(0, 1e4), st.integers(0, 100)),
    attrs=attributes,
    end=st.one_of(st.none(), st.integers(0, 10**6)),
    raw=st.one_of(st.none(), st.text(max_size=5)),
    sensor=st.text(min_size=1, max_size=10),
)
def test_fast_canonical_form_equals_generic_serialisation(
    location: PointLocation | BearingLocation,
    seconds: int,
    micro: int,
    sigma: float,
    attrs: dict[str, object],
    end: int | None,
    raw: str | None,
    sensor: str,
) -> None:
    start = T0 + timedelta(seconds=seconds, microseconds=micro)
    obs = Observation(
        sensor, "acoustic", "explosion", start, location, time_sigma_s=sigma,
        time_end=None if end is None else start + timedelta(seconds=end),
        attributes=attrs, raw_sha256=raw,
    )  # fmt: skip
    assert obs.canonical() == canonical_json(obs.to_dict())
