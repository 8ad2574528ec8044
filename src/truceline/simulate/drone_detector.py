"""A simulated onboard object detector over the frames of a patrol.

For each frame, every true object on the ground at that time — weapon groups,
military positions (:class:`~truceline.simulate.world.GroundObject`) and craters
made before the frame — is projected into the image with the **true** camera
pose (:func:`truceline.drone.camera.project`). A visible object is detected
with probability :data:`P_DETECT` (less when it is under 8 pixels), as a box
centred on its true pixel plus 3 px noise, sized from its extent over the
ground sample distance at its slant range, with a label from the detector's
vocabulary (:data:`LABELS`; one vehicle type per weapon group), misclassified
into a neighbouring label with probability :data:`P_MISCLASS` and scored
0.55–0.97 (0.3–0.7 when misclassified). False positives appear at
:data:`FALSE_PER_FRAME` per frame, anywhere in the image, scored 0.1–0.45.

Box ``[x_min, y_min, x_max, y_max]`` in pixels, right and down from the
top-left corner, rounded to 0.1 px and clipped to the image.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from truceline.drone.base import CameraPose
from truceline.drone.camera import project
from truceline.simulate.world import World

__all__ = [
    "CLASS_MAP",
    "FALSE_PER_FRAME",
    "LABELS",
    "P_DETECT",
    "P_MISCLASS",
    "Detection",
    "Target",
    "detect_frames",
    "targets",
]

#: Per-frame probability of detecting a visible object of at least 8 pixels.
P_DETECT: Final = 0.85
#: Probability that a detection carries a neighbouring label.
P_MISCLASS: Final = 0.10
#: Mean false positives per frame.
FALSE_PER_FRAME: Final = 0.0005

#: Detector labels per weapon class or activity (the first is the most common).
LABELS: Final[dict[str, tuple[str, ...]]] = {
    "tank": ("t72", "t64"),
    "armoured_vehicle": ("bmp", "btr80"),
    "artillery_ge100": ("2s1_gvozdika", "d30", "2s19_msta", "mt12"),
    "artillery_lt100": ("zu23", "d44"),
    "mortar": ("2b11", "2b9"),
    "mlrs": ("bm21",),
    "heavy_mlrs_missile": ("tornado", "bm27"),
    "troops": ("troops",),
    "crater": ("crater",),
}
#: The detector's class map: label -> weapon class or activity (docs/drone-formats.md).
CLASS_MAP: Final[dict[str, str]] = {
    label: target for target, labels in LABELS.items() for label in labels
}
#: Labels a detector confuses a label with.
_NEIGHBOURS: Final[dict[str, tuple[str, ...]]] = {
    "t72": ("t64", "bmp"),
    "t64": ("t72", "bmp"),
    "bmp": ("btr80", "t72"),
    "btr80": ("bmp",),
    "2s1_gvozdika": ("2s19_msta", "bmp"),
    "2s19_msta": ("2s1_gvozdika",),
    "d30": ("mt12", "d44"),
    "mt12": ("d30", "d44"),
    "zu23": ("d44",),
    "d44": ("mt12", "zu23"),
    "2b11": ("2b9",),
    "2b9": ("2b11",),
    "bm21": ("tornado", "2s1_gvozdika"),
    "tornado": ("bm27", "bm21"),
    "bm27": ("tornado", "bm21"),
    "troops": ("troops",),
    "crater": ("crater",),
}
#: Ground extent of one object, metres: vehicles per class, a position, a crater.
_SIZE_M: Final = {
    "tank": 9.0,
    "armoured_vehicle": 7.0,
    "artillery_ge100": 10.0,
    "artillery_lt100": 6.0,
    "mortar": 3.0,
    "mlrs": 8.0,
    "heavy_mlrs_missile": 12.0,
    "troops": 25.0,
    "crater": 6.0,
}
_PIXEL_SIGMA: Final = 3.0
_MIN_PX: Final = 3.0
_FULL_PX: Final = 8.0
_MAX_RANGE_M: Final = 6000.0


@dataclass(frozen=True, slots=True)
class Target:
    """A true object as the detector sees it (local metres, epoch seconds)."""

    truth_id: str
    category: str  # a key of LABELS
    label: str  # its true detector label
    x: float
    y: float
    lon: float
    lat: float
    start: float
    end: float


@dataclass(slots=True)
class Detection:
    """One detector output on one frame."""

    pose: CameraPose  # the recorded pose of the frame
    box: tuple[float, float, float, float]
    label: str
    score: float
    truth_id: str | None  # None for a false positive


@dataclass(slots=True)
class FrameCounts:
    """Per truth object: frames it was in view and frames it was detected in."""

    in_view: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    detected: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def targets(world: World, rng: np.random.Generator) -> list[Target]:
    """The scenario's objects and craters as detector targets, in a fixed order."""
    found = []
    for obj in sorted(world.objects, key=lambda o: (o.truth_id, o.start)):
        category = obj.weapon_class if obj.weapon_class is not None else "troops"
        label = str(rng.choice(LABELS[category]))
        lon, lat = world.geo.to_geo(obj.x, obj.y)
        found.append(
            Target(obj.truth_id, category, label, obj.x, obj.y, lon, lat, obj.start, obj.end)
        )
    for crater in sorted(world.craters, key=lambda c: (c.time, c.x, c.y)):
        lon, lat = world.geo.to_geo(crater.x, crater.y)
        found.append(
            Target(crater.truth_id, "crater", "crater", crater.x, crater.y, lon, lat, crater.time,
                   math.inf)
        )  # fmt: skip
    return found


def _box(
    centre: tuple[float, float], size_px: float, aspect: float, pose: CameraPose
) -> tuple[float, float, float, float]:
    u, v = centre
    half_w, half_h = size_px / 2.0, size_px * aspect / 2.0
    return (
        round(max(0.0, u - half_w), 1),
        round(max(0.0, v - half_h), 1),
        round(min(float(pose.width_px), u + half_w), 1),
        round(min(float(pose.height_px), v + half_h), 1),
    )


def _seen(
    target: Target,
    pixel: tuple[float, float],
    true: CameraPose,
    recorded: CameraPose,
    local_camera: tuple[float, float, float],
    rng: np.random.Generator,
) -> Detection | None:
    """Detect ``target`` seen at true ``pixel``, or None (too small, or missed)."""
    dx, dy, dz = target.x - local_camera[0], target.y - local_camera[1], local_camera[2]
    slant = math.sqrt(dx * dx + dy * dy + dz * dz)
    ifov = 2.0 * math.tan(math.radians(true.hfov_deg) / 2.0) / true.width_px
    size_px = _SIZE_M[target.category] / (slant * ifov)
    if size_px < _MIN_PX:
        return None
    p_detect = P_DETECT * min(1.0, (size_px - _MIN_PX) / (_FULL_PX - _MIN_PX))
    if rng.random() >= p_detect:
        return None
    label, score = target.label, rng.uniform(0.55, 0.97)
    if rng.random() < P_MISCLASS:
        label, score = str(rng.choice(_NEIGHBOURS[label])), rng.uniform(0.3, 0.7)
    centre = (pixel[0] + rng.normal(0, _PIXEL_SIGMA), pixel[1] + rng.normal(0, _PIXEL_SIGMA))
    aspect = max(0.35, dz / slant)  # foreshortened in oblique views
    size = size_px * rng.uniform(0.85, 1.15)
    box = _box(centre, size, aspect, true)
    if box[2] <= box[0] or box[3] <= box[1]:
        return None  # the noisy box fell off the frame's edge: nothing to report
    return Detection(recorded, box, label, round(score, 2), target.truth_id)


def _false_positives(recorded: CameraPose, rng: np.random.Generator) -> list[Detection]:
    found = []
    for _ in range(int(rng.poisson(FALSE_PER_FRAME))):
        u = rng.uniform(0, recorded.width_px)
        v = rng.uniform(0, recorded.height_px)
        label = str(rng.choice(sorted(CLASS_MAP)))
        size = rng.uniform(8.0, 40.0)
        box = _box((u, v), size, rng.uniform(0.5, 1.0), recorded)
        found.append(Detection(recorded, box, label, round(rng.uniform(0.1, 0.45), 2), None))
    return found


def detect_frames(
    world: World,
    true: Sequence[CameraPose],
    recorded: Sequence[CameraPose],
    all_targets: Sequence[Target],
    terrain_height_m: float,
    rng: np.random.Generator,
) -> tuple[list[Detection], FrameCounts]:
    """Run the simulated detector over the frames of one flight.

    Parameters
    ----------
    world
        The scenario (for its metric frame).
    true, recorded
        The flight's true and recorded poses, pairwise; only poses with a frame
        number are frames.
    all_targets
        From :func:`targets`.
    terrain_height_m
        Height of the flat terrain, metres above mean sea level.
    rng
        Generator of the detector's draws.

    Returns
    -------
    tuple
        Detections in frame order, and per truth id the frames each object was
        in view and detected.
    """
    counts = FrameCounts()
    found: list[Detection] = []
    frames = [(t, r) for t, r in zip(true, recorded, strict=True) if t.frame is not None]
    if not frames or not all_targets:
        return found, counts
    tx = np.array([t.x for t in all_targets])
    ty = np.array([t.y for t in all_targets])
    t0 = np.array([t.start for t in all_targets])
    t1 = np.array([t.end for t in all_targets])
    cam_x, cam_y = world.geo.frame.to_local([t.lon for t, _ in frames], [t.lat for t, _ in frames])
    for k, (pose, rec) in enumerate(frames):
        near = (np.abs(tx - cam_x[k]) < _MAX_RANGE_M) & (np.abs(ty - cam_y[k]) < _MAX_RANGE_M)
        near &= (t0 <= pose.time_s) & (pose.time_s < t1)
        camera = (float(cam_x[k]), float(cam_y[k]), pose.alt_m - terrain_height_m)
        for index in np.nonzero(near)[0]:
            target = all_targets[int(index)]
            pixel = project(pose, target.lon, target.lat, terrain_height_m)
            if pixel is None:
                continue
            counts.in_view[target.truth_id] += 1
            detection = _seen(target, pixel, pose, rec, camera, rng)
            if detection is not None:
                counts.detected[target.truth_id] += 1
                found.append(detection)
        found.extend(_false_positives(rec, rng))
    return found, counts
