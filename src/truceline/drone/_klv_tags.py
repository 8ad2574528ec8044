"""MISB ST 0601 low-level codecs: the tag table with exact value mappings, BER, checksum.

Each numeric tag of the UAS Datalink Local Set is an integer of a fixed size
mapped linearly onto a physical range (ST 0601, "Conversion" row of each item):

* unsigned ``uint`` items map ``0 .. 2**n - 1`` onto ``lo .. hi``:
  ``value = lo + x * (hi - lo) / (2**n - 1)`` (e.g. tag 5 platform heading,
  ``360 / 65535`` degrees per count);
* signed ``int`` items map ``-(2**(n-1) - 1) .. 2**(n-1) - 1`` symmetrically
  onto ``-hi .. hi``: ``value = x * hi / (2**(n-1) - 1)`` (e.g. tag 13 sensor
  latitude, ``180 / 4294967294`` degrees per count). The most negative integer
  ``-2**(n-1)`` (``0x8000``, ``0x80000000``) is the standard's "error" or
  "out of range" indicator and decodes to ``None``.

Other kinds: ``time`` (tag 2, uint64 microseconds since 1970-01-01 UTC, decoded
to epoch seconds), ``count`` (plain unsigned integers such as tag 65, the LS
version) and ``text`` (ISO 646 strings such as the mission id).

Tags absent from :data:`TAGS` are legal (ST 0601 grows) and are kept as raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from truceline.model.errors import RecordError

__all__ = [
    "TAGS",
    "KLVError",
    "TagSpec",
    "TruncatedError",
    "ber_length",
    "ber_oid",
    "checksum",
    "decode_value",
    "encode_value",
    "read_ber_length",
    "read_ber_oid",
]

Kind = Literal["uint", "int", "time", "count", "text"]


@dataclass(frozen=True, slots=True)
class TagSpec:
    """How one ST 0601 item is encoded.

    Attributes
    ----------
    tag
        Local-set tag number.
    name
        Snake-case name with its unit suffix (``_deg``, ``_m``, ``_mps``, ``_s``).
    kind
        ``uint``, ``int``, ``time``, ``count`` or ``text`` (see the module doc).
    size
        Value length in bytes (``0`` for variable-length text).
    lo, hi
        Physical range of a mapped item (``int`` items: ``-hi .. hi``).
    """

    tag: int
    name: str
    kind: Kind
    size: int = 0
    lo: float = 0.0
    hi: float = 0.0


def _specs() -> dict[int, TagSpec]:
    alt = (-900.0, 19000.0)  # metres, ST 0601 tags 15, 25, 75, 78
    table = [
        TagSpec(2, "precision_time_stamp_s", "time", 8),
        TagSpec(3, "mission_id", "text"),
        TagSpec(4, "platform_tail_number", "text"),
        TagSpec(5, "platform_heading_deg", "uint", 2, 0.0, 360.0),
        TagSpec(6, "platform_pitch_deg", "int", 2, -20.0, 20.0),
        TagSpec(7, "platform_roll_deg", "int", 2, -50.0, 50.0),
        TagSpec(8, "platform_true_airspeed_mps", "count", 1),
        TagSpec(9, "platform_indicated_airspeed_mps", "count", 1),
        TagSpec(10, "platform_designation", "text"),
        TagSpec(11, "image_source_sensor", "text"),
        TagSpec(12, "image_coordinate_system", "text"),
        TagSpec(13, "sensor_latitude_deg", "int", 4, -90.0, 90.0),
        TagSpec(14, "sensor_longitude_deg", "int", 4, -180.0, 180.0),
        TagSpec(15, "sensor_true_altitude_m", "uint", 2, *alt),
        TagSpec(16, "sensor_hfov_deg", "uint", 2, 0.0, 180.0),
        TagSpec(17, "sensor_vfov_deg", "uint", 2, 0.0, 180.0),
        TagSpec(18, "sensor_relative_azimuth_deg", "uint", 4, 0.0, 360.0),
        TagSpec(19, "sensor_relative_elevation_deg", "int", 4, -180.0, 180.0),
        TagSpec(20, "sensor_relative_roll_deg", "uint", 4, 0.0, 360.0),
        TagSpec(21, "slant_range_m", "uint", 4, 0.0, 5_000_000.0),
        TagSpec(22, "target_width_m", "uint", 2, 0.0, 10_000.0),
        TagSpec(23, "frame_center_latitude_deg", "int", 4, -90.0, 90.0),
        TagSpec(24, "frame_center_longitude_deg", "int", 4, -180.0, 180.0),
        TagSpec(25, "frame_center_elevation_m", "uint", 2, *alt),
        TagSpec(65, "uas_ls_version", "count", 1),
        TagSpec(75, "sensor_ellipsoid_height_m", "uint", 2, *alt),
        TagSpec(78, "frame_center_height_above_ellipsoid_m", "uint", 2, *alt),
        TagSpec(90, "platform_pitch_full_deg", "int", 4, -90.0, 90.0),
        TagSpec(91, "platform_roll_full_deg", "int", 4, -90.0, 90.0),
    ]
    # Tags 26-33: corner offsets from the frame centre (lat, lon of corners 1-4),
    # int16 over +-0.075 degrees; tags 82-89: the same corners in full, int32.
    for i in range(4):
        table.append(
            TagSpec(26 + 2 * i, f"offset_corner_latitude_{i + 1}_deg", "int", 2, -0.075, 0.075)
        )
        table.append(
            TagSpec(27 + 2 * i, f"offset_corner_longitude_{i + 1}_deg", "int", 2, -0.075, 0.075)
        )
        table.append(TagSpec(82 + 2 * i, f"corner_latitude_{i + 1}_deg", "int", 4, -90.0, 90.0))
        table.append(TagSpec(83 + 2 * i, f"corner_longitude_{i + 1}_deg", "int", 4, -180.0, 180.0))
    return {s.tag: s for s in sorted(table, key=lambda s: s.tag)}


#: Known ST 0601 items by tag number.
TAGS: dict[int, TagSpec] = _specs()


def decode_value(spec: TagSpec, raw: bytes) -> object:
    """Decode the value bytes of a known item into SI units.

    Returns a float (degrees, metres, epoch seconds UTC), an int (``count``),
    a str (``text``), or ``None`` for the error/out-of-range indicator or a
    zero-length item (no value).

    Raises
    ------
    ValueError
        The value has the wrong length for its tag.
    """
    if not raw:
        return None
    if spec.kind == "text":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if spec.size and len(raw) != spec.size:
        raise ValueError(f"tag {spec.tag} ({spec.name}) has {len(raw)} bytes, expected {spec.size}")
    if spec.kind == "count":
        return int.from_bytes(raw, "big")
    if spec.kind == "time":
        return int.from_bytes(raw, "big") / 1e6
    bits = 8 * spec.size
    if spec.kind == "uint":
        x = int.from_bytes(raw, "big")
        return spec.lo + x * (spec.hi - spec.lo) / (2**bits - 1)
    x = int.from_bytes(raw, "big", signed=True)
    if x == -(2 ** (bits - 1)):
        return None
    return x * spec.hi / (2 ** (bits - 1) - 1)


def encode_value(spec: TagSpec, value: float | int) -> bytes:
    """Encode a physical value (SI units, degrees, epoch seconds) of a known item.

    The value is rounded to the nearest count of the tag's mapping, so a round
    trip is exact to half a count (the tag's quantisation).

    Raises
    ------
    KLVError
        The value is not finite or lies outside the tag's range.
    """
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise KLVError(f"not a finite number: {value!r}", field=f"tag {spec.tag} ({spec.name})")
    if spec.kind == "text":
        raise KLVError("text items are written as bytes", field=f"tag {spec.tag} ({spec.name})")
    if spec.kind in ("count", "time"):
        x = round(v * 1e6) if spec.kind == "time" else round(v)
        top = 2 ** (8 * spec.size) - 1
    elif spec.kind == "uint":
        top = 2 ** (8 * spec.size) - 1
        x = round((v - spec.lo) * top / (spec.hi - spec.lo))
    else:
        top = 2 ** (8 * spec.size - 1) - 1
        x = round(v * top / spec.hi)
    low = -top if spec.kind == "int" else 0
    if not low <= x <= top:
        lo = spec.lo if spec.kind in ("int", "uint") else 0
        raise KLVError(
            f"{value!r} is outside the range of the tag ({lo} .. {spec.hi})"
            if spec.kind in ("int", "uint")
            else f"{value!r} does not fit in {spec.size} unsigned bytes",
            field=f"tag {spec.tag} ({spec.name})",
        )
    return x.to_bytes(spec.size, "big", signed=spec.kind == "int")


# --- BER lengths, BER-OID tags, checksum ----------------------------------------------------

_MAX_LENGTH_BYTES = 4  # BER long form: a UAS LS packet never needs more than 4 length bytes
_MAX_TAG_BYTES = 4  # BER-OID tags up to 2**28 - 1


class KLVError(RecordError):
    """A KLV structure cannot be decoded, or a value cannot be encoded."""


class TruncatedError(Exception):
    """The data ends inside a structure (internal: the stream parser decides what it means)."""


def read_ber_length(data: bytes, pos: int) -> tuple[int, int]:
    """BER length at ``pos``: ``(length, bytes used)``.

    Short form: one byte below 0x80. Long form: ``0x80 | n`` then ``n`` big-endian
    bytes. The indefinite form (``0x80``) and more than four length bytes are
    rejected with :class:`KLVError`; data ending early raises :class:`TruncatedError`.
    """
    if pos >= len(data):
        raise TruncatedError
    first = data[pos]
    if first < 0x80:
        return first, 1
    n = first & 0x7F
    if n == 0:
        raise KLVError("indefinite BER length (0x80) is not allowed in KLV")
    if n > _MAX_LENGTH_BYTES:
        raise KLVError(f"BER length of {n} bytes is oversized (at most {_MAX_LENGTH_BYTES})")
    if pos + 1 + n > len(data):
        raise TruncatedError
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), 1 + n


def ber_length(n: int) -> bytes:
    """BER encoding of a length: short form below 128, else the shortest long form."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > _MAX_LENGTH_BYTES:
        raise KLVError(f"length {n} is too large for a KLV item")
    return bytes([0x80 | len(body)]) + body


def read_ber_oid(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """BER-OID tag number at ``pos`` (before ``end``): ``(tag, bytes used)``.

    Seven bits a byte, most significant group first; the high bit is set on
    every byte but the last.
    """
    tag = 0
    for used in range(1, _MAX_TAG_BYTES + 1):
        if pos + used > end:
            raise KLVError("local set ends inside a tag")
        byte = data[pos + used - 1]
        tag = (tag << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if tag == 0:
                raise KLVError("tag 0 is not a valid local-set tag")
            return tag, used
    raise KLVError(f"BER-OID tag longer than {_MAX_TAG_BYTES} bytes")


def ber_oid(tag: int) -> bytes:
    """BER-OID encoding of a tag number (7 bits a byte, high bit on all but the last)."""
    if not 0 < tag < 2 ** (7 * _MAX_TAG_BYTES):
        raise KLVError(f"tag {tag} cannot be encoded")
    groups = [tag & 0x7F]
    tag >>= 7
    while tag:
        groups.append(0x80 | (tag & 0x7F))
        tag >>= 7
    return bytes(reversed(groups))


def checksum(packet: bytes) -> int:
    """ST 0601 checksum (tag 1) of a packet whose last two bytes are the checksum value.

    The standard's 16-bit running sum (its reference function ``bcc_16``): byte
    ``i`` of ``packet[:-2]`` -- the key through the checksum item's tag and length
    bytes -- is added shifted left by 8 bits when ``i`` is even, i.e. the bytes
    are summed as big-endian 16-bit words; overflow is discarded.
    """
    body = packet[:-2]
    return ((sum(body[0::2]) << 8) + sum(body[1::2])) & 0xFFFF
