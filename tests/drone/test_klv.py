"""MISB ST 0601 KLV: byte-level tests with hand-built packets, round trips, telemetry files."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.drone.base import CameraPose, PoseUncertainty
from truceline.drone.klv import (
    UAS_LS_KEY,
    KLVError,
    KLVWarning,
    checksum,
    encode_local_set,
    looks_like_klv,
    parse_stream,
    read_klv,
    write_klv,
)
from truceline.drone.sidecar import TelemetrySidecar, write_sidecar
from truceline.model.errors import RecordError

KEY = bytes.fromhex("06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00")


def word_sum(data: bytes) -> int:
    """Independent checksum: big-endian 16-bit words (odd tail padded with 0), mod 2**16."""
    padded = data + b"\x00" * (len(data) % 2)
    words = [int.from_bytes(padded[i : i + 2], "big") for i in range(0, len(padded), 2)]
    return sum(words) % 65536


def ber(n: int) -> bytes:
    """BER length, by hand: short form or 0x81 / 0x82 long forms."""
    if n < 128:
        return bytes([n])
    if n < 256:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def packet(items_hex: str, *, length: bytes | None = None, bad_sum: bool = False) -> bytes:
    """A packet from hand-written item bytes (hex); checksum appended by `word_sum`."""
    body = bytes.fromhex(items_hex) + b"\x01\x02"
    head = KEY + (length if length is not None else ber(len(body) + 2)) + body
    value = (word_sum(head) + (1 if bad_sum else 0)) % 65536
    return head + value.to_bytes(2, "big")


# Item bytes and interpretations from the example tables of MISB ST 0601.9 / ST 0902.
EXAMPLE = """
02 08 00 04 59 F4 A6 AA 4A A8
03 09 4D 49 53 53 49 4F 4E 30 31
05 02 71 C2
06 02 FD 3D
07 02 08 B8
0D 04 55 95 B6 6D
0E 04 5B 53 60 C4
0F 02 C2 21
10 02 CD 9C
11 02 D9 17
12 04 72 4A 0A 20
13 04 87 F8 4B 86
14 04 7D C5 5E CE
15 04 03 83 09 26
17 04 F1 01 A2 29
18 04 14 BC 08 2B
19 02 34 F3
41 01 0D
"""
EXPECTED = {
    2: datetime(2008, 10, 24, 0, 13, 29, 913000, tzinfo=UTC).timestamp(),
    5: 159.9744,
    6: -0.4315,
    7: 3.4059,
    13: 60.17682297,
    14: 128.42675904,
    15: 14190.72,
    16: 144.5713,
    17: 152.6436,
    18: 160.71921144,
    19: -168.79232483,
    20: 176.86543765,
    21: 68590.983,
    23: -10.54238863,
    24: 29.15789012,
    25: 3216.037,
}


def test_checksum_of_an_empty_packet_computed_by_hand() -> None:
    # 060E+2B34+020B+0101+0E01+0301+0100+0000+0401+0200 = 0x4C51
    data = KEY + bytes.fromhex("04 01 02 4C 51")
    assert checksum(data) == 0x4C51
    assert parse_stream(data) == [{}]


def test_good_packet_decodes_to_the_standard_example_values() -> None:
    [ls] = parse_stream(packet(EXAMPLE))
    assert ls[3] == "MISSION01"
    assert ls[65] == 13
    for tag, value in EXPECTED.items():
        assert ls[tag] == pytest.approx(value, abs=1e-3 if tag not in (2, 13, 14) else 1e-7)
    assert 1 not in ls  # the checksum is verified, not returned


def test_bad_checksum_drops_the_packet_naming_its_offset() -> None:
    good = packet("05 02 71 C2")
    bad = packet("05 02 00 01", bad_sum=True)
    with pytest.warns(KLVWarning, match=rf"byte offset {len(good)}: bad checksum"):
        out = parse_stream(good + bad + good, source="x.klv")
    assert len(out) == 2


def test_truncated_final_packet_warns_and_keeps_earlier_packets() -> None:
    good = packet("05 02 71 C2")
    with pytest.warns(KLVWarning, match="truncated"):
        out = parse_stream(good + good[:-3])
    assert out == [{5: pytest.approx(159.9744, abs=1e-4)}]
    with pytest.warns(KLVWarning, match="truncated"):  # ends inside the long-form length
        assert parse_stream(good + KEY + b"\x82\x01") == [out[0]]


def test_unknown_tags_and_multibyte_ber_oid_tags_are_kept_raw() -> None:
    # tag 126 (one byte), tag 200 = 0x81 0x48, tag 16384 = 0x81 0x80 0x00
    data = packet("7E 02 AB CD  81 48 03 01 02 03  81 80 00 01 FF  05 02 71 C2")
    [ls] = parse_stream(data)
    assert ls[126] == b"\xab\xcd"
    assert ls[200] == b"\x01\x02\x03"
    assert ls[16384] == b"\xff"
    assert ls[5] == pytest.approx(159.9744, abs=1e-4)


@pytest.mark.parametrize(
    ("size", "item_length", "packet_form"), [(150, "81 96", 0x81), (300, "82 01 2C", 0x82)]
)
def test_ber_long_form_lengths_for_packet_and_items(
    size: int, item_length: str, packet_form: int
) -> None:
    filler = f"7F {item_length} " + "00 " * size  # item length in long form 0x81 xx / 0x82 xx xx
    data = packet(filler + "05 81 02 71 C2")  # non-minimal long form 0x81 0x02 is legal BER
    assert data[16] == packet_form  # the packet length is in long form too
    [ls] = parse_stream(data)
    assert ls[127] == bytes(size)
    assert ls[5] == pytest.approx(159.9744, abs=1e-4)


@pytest.mark.parametrize(("length", "what"), [(b"\x80", "indefinite"), (b"\x85", "oversized")])
def test_indefinite_and_oversized_lengths_are_rejected(length: bytes, what: str) -> None:
    bad = packet("05 02 71 C2", length=length + b"\x00\x00\x00\x00\x08")
    good = packet("05 02 71 C2")
    with pytest.warns(KLVWarning, match=what):
        assert len(parse_stream(bad + good)) == 1


def test_bad_item_lengths_inside_a_packet() -> None:
    item_length_indefinite = packet("05 80 71 C2")
    with pytest.warns(KLVWarning, match="indefinite"):
        assert parse_stream(item_length_indefinite) == []
    overrun = packet("05 09 71 C2")
    with pytest.warns(KLVWarning, match="past the end"):
        assert parse_stream(overrun) == []


def test_zero_length_values() -> None:
    [ls] = parse_stream(packet("05 00  7E 00  0D 04 55 95 B6 6D"))
    assert ls[5] is None  # a known item without a value
    assert ls[126] == b""
    assert ls[13] == pytest.approx(60.17682297, abs=1e-8)


def test_error_indicators_map_to_none() -> None:
    [ls] = parse_stream(packet("06 02 80 00  07 02 80 00  0D 04 80 00 00 00  13 04 80 00 00 00"))
    assert ls == {6: None, 7: None, 13: None, 19: None}


def test_known_item_with_wrong_size_is_dropped_with_a_warning() -> None:
    with pytest.warns(KLVWarning, match=r"tag 5 .* 3 bytes, expected 2"):
        [ls] = parse_stream(packet("05 03 71 C2 00  06 02 FD 3D"))
    assert list(ls) == [6]


def test_checksum_must_be_present_and_last() -> None:
    body = bytes.fromhex("05 02 71 C2")
    no_sum = KEY + ber(len(body)) + body
    with pytest.warns(KLVWarning, match="no checksum"):
        assert parse_stream(no_sum) == []
    good = packet("05 02 71 C2")
    trailing = good[:16] + bytes([good[16] + 4]) + good[17:] + bytes.fromhex("06 02 FD 3D")
    with pytest.warns(KLVWarning, match="must be the last"):
        assert parse_stream(trailing) == []


def test_garbage_before_and_between_packets_resynchronises() -> None:
    good = packet("05 02 71 C2")
    with pytest.warns(KLVWarning) as rec:
        out = parse_stream(b"garbage" + good + b"\x00\x06\x0e" + good + b"tail")
    assert len(out) == 2
    messages = [str(w.message) for w in rec]
    assert "byte offset 0: skipped 7 bytes of garbage" in messages[0]
    assert any("skipped 3 bytes" in m for m in messages)
    assert any("4 trailing bytes" in m for m in messages)


def test_corrupted_length_resyncs_on_the_next_key() -> None:
    good = packet("05 02 71 C2")
    long_claim = packet("05 02 71 C2", length=b"\x30")  # claims 48 bytes; next key inside
    with pytest.warns(KLVWarning, match="byte offset 0"):
        out = parse_stream(long_claim + good + good)
    assert len(out) >= 1
    assert out[-1] == {5: pytest.approx(159.9744, abs=1e-4)}


def test_encoder_matches_hand_built_bytes() -> None:
    built = encode_local_set({5: 159.97436484321355, 6: -0.4315317239905987, 126: b"\xab"})
    assert built == packet("05 02 71 C2  06 02 FD 3D  7E 01 AB")
    timed = encode_local_set({13: 60.176822966978335, 2: EXPECTED[2]})
    assert timed == packet("02 08 00 04 59 F4 A6 AA 4A A8  0D 04 55 95 B6 6D")  # tag 2 first
    big_tag = encode_local_set({200: b"\x01"})
    assert big_tag == packet("81 48 01 01")


def test_encoder_refuses_what_it_cannot_write() -> None:
    with pytest.raises(KLVError, match="checksum"):
        encode_local_set({1: b"\x00\x00"})
    with pytest.raises(KLVError, match="give its value as bytes"):
        encode_local_set({300: 1.0})
    with pytest.raises(RecordError, match=r"outside the range"):
        encode_local_set({6: 25.0})  # pitch beyond +-20 degrees
    with pytest.raises(RecordError, match="finite"):
        encode_local_set({13: float("nan")})


def test_encode_decode_round_trip_within_quantisation() -> None:
    rng = random.Random(4)
    steps = {2: 1e-6, 5: 360 / 65535, 6: 40 / 65534, 7: 100 / 65534, 13: 180 / 4294967294,
             14: 360 / 4294967294, 15: 19900 / 65535, 16: 180 / 65535, 17: 180 / 65535,
             18: 360 / 4294967295, 19: 360 / 4294967294, 20: 360 / 4294967295,
             21: 5e6 / 4294967295, 25: 19900 / 65535}  # fmt: skip
    ranges = {2: (1.6e9, 1.9e9), 5: (0, 360), 6: (-20, 20), 7: (-50, 50), 13: (-90, 90),
              14: (-180, 180), 15: (-900, 19000), 16: (0, 180), 17: (0, 180), 18: (0, 360),
              19: (-180, 180), 20: (0, 360), 21: (0, 5e6), 25: (-900, 19000)}  # fmt: skip
    stream = b""
    sent = []
    for _ in range(200):
        values = {tag: rng.uniform(*span) for tag, span in ranges.items()}
        sent.append(values)
        stream += encode_local_set(values)
    got = parse_stream(stream)
    assert len(got) == len(sent)
    for values, ls in zip(sent, got, strict=True):
        for tag, value in values.items():
            decoded = ls[tag]
            assert isinstance(decoded, float)
            assert abs(decoded - value) <= steps[tag] / 2 + 4 * math.ulp(value), tag


def _pose(rng: random.Random, t: float) -> CameraPose:
    return CameraPose(
        time_s=t,
        lon=rng.uniform(-180, 180),
        lat=rng.uniform(-89, 89),
        alt_m=rng.uniform(-100, 6000),
        heading_deg=rng.uniform(0, 360),
        pitch_deg=rng.uniform(-35, 35),  # beyond +-20 uses tag 90
        roll_deg=rng.uniform(-70, 70),  # beyond +-50 uses tag 91
        sensor_az_deg=rng.uniform(0, 360),
        sensor_el_deg=rng.uniform(-90, 0),
        sensor_roll_deg=rng.uniform(-10, 10),
        hfov_deg=rng.uniform(1, 90),
        vfov_deg=rng.uniform(1, 70),
        width_px=1920,
        height_px=1080,
    )


def _sidecar(path: Path) -> TelemetrySidecar:
    side = TelemetrySidecar(
        "drone:UAV-3", 40.0, 30.0, 1920, 1440, PoseUncertainty(horizontal_m=2.0)
    )
    write_sidecar(path, side)
    return side


def _ang(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_write_and_read_klv_round_trip(tmp_path: Path) -> None:
    rng = random.Random(7)
    poses = [_pose(rng, 1.8e9 + 0.5 * i) for i in range(100)]
    path = tmp_path / "patrol.klv"
    write_klv(path, poses)
    side = _sidecar(path)
    assert looks_like_klv(path.read_bytes()[:64])
    tel = read_klv(path)
    assert len(tel.poses) == len(poses)
    for a, b in zip(poses, tel.poses, strict=True):
        assert b.time_s == pytest.approx(a.time_s, abs=1e-6)
        assert (b.lat, b.lon) == pytest.approx((a.lat, a.lon), abs=5e-8)
        assert b.alt_m == pytest.approx(a.alt_m, abs=0.16)
        assert _ang(b.heading_deg, a.heading_deg) <= 0.003
        assert b.pitch_deg == pytest.approx(a.pitch_deg, abs=1e-3)
        assert b.roll_deg == pytest.approx(a.roll_deg, abs=1e-3)
        assert _ang(b.sensor_az_deg, a.sensor_az_deg) <= 1e-7
        assert b.sensor_el_deg == pytest.approx(a.sensor_el_deg, abs=1e-7)
        assert b.sensor_roll_deg == pytest.approx(a.sensor_roll_deg, abs=1e-7)
        assert (b.hfov_deg, b.vfov_deg) == pytest.approx((a.hfov_deg, a.vfov_deg), abs=0.0014)
        assert (b.width_px, b.height_px) == (side.width_px, side.height_px)
        assert b.uncertainty == side.uncertainty
        assert b.frame is None


def test_read_klv_skips_incomplete_packets_counting_them(tmp_path: Path) -> None:
    rng = random.Random(1)
    path = tmp_path / "a.klv"
    write_klv(path, [_pose(rng, 1.8e9), _pose(rng, 1.8e9 + 1)])
    no_position = encode_local_set({2: 1.8e9 + 2, 5: 10.0, 6: 0.0, 7: 0.0})
    out_of_range = encode_local_set(
        {
            2: 1.8e9 + 3,
            5: 1.0,
            6: b"\x80\x00",
            7: 0.0,
            13: 1.0,
            14: 2.0,
            15: 100.0,
            18: 0.0,
            19: -90.0,
            20: 0.0,
        }
    )
    path.write_bytes(path.read_bytes() + no_position + out_of_range)
    _sidecar(path)
    with pytest.warns(KLVWarning, match=r"2 of 4 packets skipped .*no latitude.*no pitch"):
        tel = read_klv(path)
    assert len(tel.poses) == 2


def test_read_klv_takes_fields_of_view_from_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "b.klv"
    values = {2: 1.8e9, 5: 90.0, 6: 1.0, 7: -2.0, 13: 48.5, 14: 37.9, 15: 1200.0,
              18: 0.0, 19: -60.0, 20: 0.0}  # fmt: skip
    path.write_bytes(encode_local_set(values))
    _sidecar(path)
    [pose] = read_klv(path).poses
    assert (pose.hfov_deg, pose.vfov_deg) == (40.0, 30.0)
    assert pose.lat == pytest.approx(48.5, abs=1e-7)


def test_read_klv_without_sidecar_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.klv"
    write_klv(path, [_pose(random.Random(2), 1.8e9)])
    with pytest.raises(RecordError, match=r"no sidecar c\.klv\.json"):
        read_klv(path)


def test_read_klv_with_no_usable_packet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "d.klv"
    path.write_bytes(b"not klv at all")
    _sidecar(path)
    with pytest.warns(KLVWarning), pytest.raises(RecordError, match="no KLV packet"):
        read_klv(path)


def test_write_klv_names_the_pose_it_cannot_encode(tmp_path: Path) -> None:
    rng = random.Random(3)
    p = _pose(rng, 1.8e9)
    high = dataclasses.replace(p, time_s=p.time_s + 1, alt_m=25_000.0)
    with pytest.raises(RecordError, match=r"pose 2.*outside the range"):
        write_klv(tmp_path / "e.klv", [p, high])
    with pytest.raises(RecordError, match="no poses"):
        write_klv(tmp_path / "f.klv", [])


def test_key_constant() -> None:
    assert UAS_LS_KEY == KEY
    assert not looks_like_klv(b"\x00" * 64)
