"""MISB ST 0601 (UAS Datalink Local Set) KLV: parse, encode, read and write telemetry.

A ``.klv`` file is a byte stream of concatenated UAS Datalink LS packets::

    key (16 bytes)  06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00
    length          BER: short form (one byte < 0x80) or long form (0x8n + n bytes)
    items           tag (BER-OID: 7 bits a byte, high bit = more bytes follow),
                    length (BER), value -- repeated; tag 1, the checksum, last.

The checksum (tag 1, two bytes) is, as ST 0601 defines it ("Checksum" item and the
standard's reference function ``bcc_16``), the 16-bit running sum of the packet
taken as big-endian 16-bit words -- byte ``i`` is added shifted left by 8 bits
when ``i`` is even -- over every byte from the first byte of the key up to and
including the checksum item's tag and length bytes (everything but the checksum
value itself), overflow discarded (as also implemented by jmisb's ``st0601.Checksum``).

Value mappings are in :mod:`truceline.drone._klv_tags`. Camera intrinsics and pose
uncertainty come from the JSON sidecar ``NAME.klv.json``
(:mod:`truceline.drone.sidecar`; see ``docs/drone-formats.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from truceline.drone._klv_tags import (
    TAGS,
    KLVError,
    TruncatedError,
    ber_length,
    ber_oid,
    checksum,
    decode_value,
    encode_value,
    read_ber_length,
    read_ber_oid,
)
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.sidecar import TelemetrySidecar, read_sidecar
from truceline.model.errors import RecordError

__all__ = [
    "UAS_LS_KEY",
    "KLVError",
    "KLVWarning",
    "checksum",
    "encode_local_set",
    "looks_like_klv",
    "parse_stream",
    "read_klv",
    "write_klv",
]

#: The 16-byte SMPTE universal key of the UAS Datalink Local Set (ST 0601).
UAS_LS_KEY = bytes.fromhex("060E2B34020B01010E01030101000000")
#: The LS version written by :func:`write_klv` (tag 65): ST 0601.17.
LS_VERSION = 17


class KLVWarning(UserWarning):
    """Recoverable trouble in a KLV stream: garbage skipped, a packet dropped."""


# --- decoding -------------------------------------------------------------------------------


def _split_items(packet: bytes, start: int) -> list[tuple[int, bytes]]:
    """The ``(tag, value bytes)`` items of one complete packet, checksum verified.

    The packet's value field begins at ``start``; the checksum must be its last item.
    """
    items: list[tuple[int, bytes]] = []
    pos, end = start, len(packet)
    while pos < end:
        tag, used = read_ber_oid(packet, pos, end)
        try:
            length, lused = read_ber_length(packet, pos + used)
        except TruncatedError:
            raise KLVError(f"local set ends inside the length of tag {tag}") from None
        vstart = pos + used + lused
        if vstart + length > end:
            raise KLVError(f"tag {tag} claims {length} bytes past the end of the packet")
        pos = vstart + length
        if tag == 1:
            if pos != end or length != 2:
                raise KLVError("the checksum (tag 1, 2 bytes) must be the last item")
            got, want = int.from_bytes(packet[vstart:pos], "big"), checksum(packet)
            if got != want:
                raise KLVError(f"bad checksum 0x{got:04X} (computed 0x{want:04X})")
            return items
        items.append((tag, packet[vstart:pos]))
    raise KLVError("no checksum (tag 1) at the end of the packet")


def _decode_items(items: list[tuple[int, bytes]], source: str, offset: int) -> dict[int, object]:
    """Decode verified items; unknown tags stay raw bytes, bad known items are dropped."""
    values: dict[int, object] = {}
    for tag, raw in items:
        spec = TAGS.get(tag)
        if tag in values:
            _warn(source, offset, f"tag {tag} repeated; the first value is kept")
        elif spec is None:
            values[tag] = raw  # unknown but legal (ST 0601 grows): kept as raw bytes
        else:
            try:
                values[tag] = decode_value(spec, raw)
            except ValueError as exc:
                _warn(source, offset, f"{exc}; item ignored")
    return values


def _warn(source: str, offset: int, message: str) -> None:
    warnings.warn(f"{source}: byte offset {offset}: {message}", KLVWarning, stacklevel=3)


def parse_stream(data: bytes, source: str = "<klv>") -> list[dict[int, object]]:
    """Decode a byte stream of concatenated UAS Datalink LS packets.

    Parameters
    ----------
    data
        The stream (e.g. the bytes of a ``.klv`` file).
    source
        Name of the stream, for warnings.

    Returns
    -------
    list of dict
        One dict per packet whose checksum verified, in stream order: tag number ->
        value in SI units (degrees, metres, UTC epoch seconds; see
        :mod:`truceline.drone._klv_tags`), ``None`` for the standard's
        error/out-of-range indicators and zero-length items, raw ``bytes`` for
        tags not in the table. The checksum (tag 1) itself is not included.

    Warns
    -----
    KLVWarning
        Garbage skipped to resynchronise on the next key; a packet dropped for a
        bad checksum or a malformed local set (naming its byte offset); a
        truncated final packet (the packets before it are kept).
    """
    packets: list[dict[int, object]] = []
    pos, n = 0, len(data)
    while pos < n:
        k = data.find(UAS_LS_KEY, pos)
        if k < 0:
            _warn(source, pos, f"{n - pos} trailing bytes are not a UAS LS packet; skipped")
            break
        if k > pos:
            _warn(source, pos, f"skipped {k - pos} bytes of garbage before the key at {k}")
        try:
            length, lused = read_ber_length(data, k + len(UAS_LS_KEY))
        except TruncatedError:
            _warn(source, k, "truncated packet at the end of the stream; dropped")
            break
        except KLVError as exc:
            _warn(source, k, f"{exc.message}; packet dropped")
            nxt = data.find(UAS_LS_KEY, k + 1)
            pos = nxt if nxt >= 0 else n  # its extent is unknown: resync on the next key
            continue
        start = k + len(UAS_LS_KEY) + lused
        end = start + length
        nxt = data.find(UAS_LS_KEY, k + 1)
        if end > n:
            if nxt < 0:
                _warn(source, k, "truncated packet at the end of the stream; dropped")
                break
            _warn(source, k, f"packet claims {length} bytes but the next key is at {nxt}; dropped")
            pos = nxt
            continue
        packet = data[k:end]
        try:
            items = _split_items(packet, start - k)
        except KLVError as exc:
            _warn(source, k, f"{exc.message}; packet dropped")
            # A corrupted length may hide the next packet inside this one: resync there.
            pos = nxt if 0 <= nxt < end else end
            continue
        packets.append(_decode_items(items, source, k))
        pos = end
    return packets


def looks_like_klv(head: bytes) -> bool:
    """Cheap probe: does ``head`` (the first bytes of a file) hold a UAS LS key?"""
    return UAS_LS_KEY in head


# --- encoding -------------------------------------------------------------------------------


def _item(tag: int, value: float | int | bytes) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        spec = TAGS.get(tag)
        if spec is None:
            raise KLVError(f"tag {tag} is not in the table: give its value as bytes")
        raw = encode_value(spec, value)
    return ber_oid(tag) + ber_length(len(raw)) + raw


def encode_local_set(values: Mapping[int, float | int | bytes]) -> bytes:
    """Encode one complete UAS Datalink LS packet.

    Parameters
    ----------
    values
        Tag number -> physical value (SI units, degrees, UTC epoch seconds for
        tag 2), mapped to integers as ST 0601 defines; ``bytes`` are written
        verbatim (unknown tags, text, or an error indicator such as
        ``b"\\x80\\x00"``). Tag 1 must not be given: the checksum is computed.

    Returns
    -------
    bytes
        Key, BER length, items (tag 2 first if present, then ascending tags) and
        the checksum item last.

    Raises
    ------
    KLVError
        Tag 1 given, an unknown tag with a numeric value, a bad tag number, or a
        value that is not finite or outside its tag's range (``field`` names the tag).
    """
    if 1 in values:
        raise KLVError("tag 1 (checksum) is computed, do not give it")
    order = sorted(values, key=lambda t: (t != 2, t))
    body = b"".join(_item(t, values[t]) for t in order) + b"\x01\x02"
    packet = UAS_LS_KEY + ber_length(len(body) + 2) + body + b"\x00\x00"
    return packet[:-2] + checksum(packet).to_bytes(2, "big")


# --- telemetry ------------------------------------------------------------------------------


def _number(ls: Mapping[int, object], tag: int) -> float | None:
    v = ls.get(tag)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


_REQUIRED = {2: "time", 13: "latitude", 14: "longitude", 15: "altitude", 5: "heading",
             18: "sensor azimuth", 19: "sensor elevation", 20: "sensor roll"}  # fmt: skip


def _pose(ls: Mapping[int, object], side: TelemetrySidecar) -> CameraPose | str:
    """The camera pose of one decoded packet, or why there is none."""
    got = {tag: v for tag in _REQUIRED if (v := _number(ls, tag)) is not None}
    pitch = _number(ls, 90)
    pitch = _number(ls, 6) if pitch is None else pitch
    roll = _number(ls, 91)
    roll = _number(ls, 7) if roll is None else roll
    missing = [name for tag, name in _REQUIRED.items() if tag not in got]
    missing += [name for name, v in (("pitch", pitch), ("roll", roll)) if v is None]
    if missing or pitch is None or roll is None:
        return "no " + ", ".join(missing)
    hfov = _number(ls, 16)
    vfov = _number(ls, 17)
    try:
        return CameraPose(
            time_s=got[2],
            lon=got[14],
            lat=got[13],
            alt_m=got[15],
            heading_deg=got[5] % 360.0,
            pitch_deg=pitch,
            roll_deg=roll,
            sensor_az_deg=got[18] % 360.0,
            sensor_el_deg=got[19],
            # ST 0601 gives 0..360; the pose wants it near 0 so it interpolates linearly.
            sensor_roll_deg=(got[20] + 180.0) % 360.0 - 180.0,
            hfov_deg=side.hfov_deg if hfov is None else hfov,
            vfov_deg=side.vfov_deg if vfov is None else vfov,
            width_px=side.width_px,
            height_px=side.height_px,
            uncertainty=side.uncertainty,
        )
    except RecordError as exc:
        return exc.message


def read_klv(path: Path, max_gap_s: float = 2.0) -> Telemetry:
    """Read a ``.klv`` stream and its sidecar into a :class:`Telemetry`.

    Each packet with a time (tag 2), sensor position (13, 14, 15), platform
    attitude (5; 90 or 6; 91 or 7) and sensor orientation (18, 19, 20) becomes a
    :class:`~truceline.drone.base.CameraPose`; fields of view come from tags
    16/17 or else the sidecar, image size and uncertainty from the sidecar.
    ST 0601 has no frame numbers, so ``frame`` is ``None``.

    Parameters
    ----------
    path
        The ``.klv`` file; its sidecar ``path.name + ".json"`` must exist.
    max_gap_s
        Largest gap between poses bridged by interpolation, seconds.

    Raises
    ------
    truceline.model.RecordError
        Missing or bad sidecar, unreadable file, or no usable packet.

    Warns
    -----
    KLVWarning
        Stream problems (see :func:`parse_stream`) and, once, the number of
        packets skipped for missing or out-of-range tags, with the reasons.
    """
    side = read_sidecar(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror}", file=source) from None
    packets = parse_stream(data, source)
    poses: list[CameraPose] = []
    reasons: dict[str, int] = {}
    for ls in packets:
        pose = _pose(ls, side)
        if isinstance(pose, str):
            reasons[pose] = reasons.get(pose, 0) + 1
        else:
            poses.append(pose)
    if reasons:
        why = "; ".join(f"{count} x {reason}" for reason, count in sorted(reasons.items()))
        warnings.warn(
            f"{source}: {sum(reasons.values())} of {len(packets)} packets skipped ({why})",
            KLVWarning,
            stacklevel=2,
        )
    if not poses:
        raise RecordError(
            "no KLV packet with time, position, attitude and sensor orientation", file=source
        )
    return Telemetry(poses, source=source, max_gap_s=max_gap_s)


_OUT_OF_RANGE_16 = b"\x80\x00"  # ST 0601 int16 "out of range" indicator


def _pose_values(pose: CameraPose) -> dict[int, float | int | bytes]:
    """The ST 0601 items of one pose (short pitch/roll flagged when beyond their range)."""
    values: dict[int, float | int | bytes] = {
        2: pose.time_s,
        5: pose.heading_deg % 360.0,
        13: pose.lat,
        14: pose.lon,
        15: pose.alt_m,
        16: pose.hfov_deg,
        17: pose.vfov_deg,
        18: pose.sensor_az_deg % 360.0,
        19: (pose.sensor_el_deg + 180.0) % 360.0 - 180.0,
        20: pose.sensor_roll_deg % 360.0,
        65: LS_VERSION,
    }
    for short, full, limit, angle in ((6, 90, 20.0, pose.pitch_deg), (7, 91, 50.0, pose.roll_deg)):
        if abs(angle) <= limit:
            values[short] = angle
        else:
            values[short] = _OUT_OF_RANGE_16
            values[full] = angle
    return values


def write_klv(path: Path, poses: Sequence[CameraPose]) -> None:
    """Write one UAS Datalink LS packet per pose to ``path``.

    Writes tags 2, 5, 6, 7 (plus 90/91 when pitch exceeds ±20° or roll ±50°),
    13-20 and 65. Reading the file back with :func:`read_klv` (the sidecar is
    the caller's, see :func:`truceline.drone.sidecar.write_sidecar`) reproduces
    the poses to within each tag's quantisation; frame numbers are not carried.

    Raises
    ------
    truceline.model.RecordError
        No poses, or a value outside its tag's range (e.g. altitude above
        19 000 m), naming the pose by its 1-based index.
    """
    chunks = []
    for i, pose in enumerate(poses, start=1):
        try:
            chunks.append(encode_local_set(_pose_values(pose)))
        except RecordError as exc:
            raise RecordError(
                exc.message, file=str(path), record=f"pose {i}", field=exc.field
            ) from None
    if not chunks:
        raise RecordError("no poses to write", file=str(path))
    path.write_bytes(b"".join(chunks))
