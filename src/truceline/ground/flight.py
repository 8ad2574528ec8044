"""Flight physics of indirect fire: weapon envelopes and how well a launch/impact pair fits them.

A :class:`WeaponFamily` is the rough flight envelope of a family of weapons: a
range interval, and a mean horizontal speed interval that, with a longest
flight, gives a time-of-flight window ``[range / v_max, min(range / v_min,
t_max)]`` for each range. :data:`WEAPON_FAMILIES` are the default families.

The likelihood of a launch/impact pair under a family is a uniform density over
its range interval times a uniform density over its time-of-flight window, each
blurred by the Gaussian uncertainty of the two positions (projected on the line
of fire) and of the two times; the pair's likelihood is the prior-weighted sum
over families. When either event is an episode of several rounds, the shorter
episode's firing interval lies somewhere within the longer one's, at an offset
uniform over the difference of their lengths, so the time-of-flight density is
averaged over that offset: a launch "episode" of half an hour (rounds of several
missions merged) fits an impact a minute long with a density about
``window / 1800 s`` times that of a matching single mission, not as well as the
best-fitting instant within it.
:func:`plausible_families` scores one range and time of flight;
:mod:`truceline.ground.trajectory` uses the same functions to pair all located
launches and impacts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

if TYPE_CHECKING:
    from truceline.ground.trajectory import TrajectoryConfig

__all__ = [
    "WEAPON_FAMILIES",
    "WeaponFamily",
    "plausible_families",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WeaponFamily:
    """Rough flight envelope of a family of indirect-fire weapons.

    Attributes
    ----------
    name
        Family name.
    weapon_class
        The matching class of :data:`truceline.model.vocab.WEAPON_CLASSES`.
    min_range_m, max_range_m
        Range interval, metres.
    min_speed_mps, max_speed_mps
        Mean horizontal speed over the whole flight (range / time of flight), m/s.
    max_time_of_flight_s
        Longest flight, seconds (high-angle fire at the lowest charge).
    prior
        Relative prior weight among families.
    """

    name: str
    weapon_class: str
    min_range_m: float
    max_range_m: float
    min_speed_mps: float
    max_speed_mps: float
    max_time_of_flight_s: float
    prior: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_range_m < self.max_range_m:
            raise ValueError(f"family {self.name}: need 0 <= min_range_m < max_range_m")
        if not 0.0 < self.min_speed_mps < self.max_speed_mps:
            raise ValueError(f"family {self.name}: need 0 < min_speed_mps < max_speed_mps")
        if self.max_time_of_flight_s <= 0.0 or self.prior <= 0.0:
            raise ValueError(f"family {self.name}: max time of flight and prior must be positive")

    def window_s(self, range_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Time-of-flight window ``(earliest, latest)`` in seconds for each range in metres."""
        lo = range_m / self.max_speed_mps
        hi = np.minimum(range_m / self.min_speed_mps, self.max_time_of_flight_s)
        return lo, hi


#: Rough physics, not a targeting table; the windows are deliberately wide.
#:
#: * mortars (60-120 mm): muzzle velocity 200-320 m/s, up to ~8 km; high-angle
#:   fire (45-85°) gives flights of 15-65 s (vacuum bound 2 v0 / g ≈ 65 s), so
#:   mean horizontal speed 20-250 m/s;
#: * guns under 100 mm (e.g. 76/85 mm field guns, 680-790 m/s): up to ~15 km;
#: * guns of 100 mm and above (122 mm D-30 to 15 km; 152/155 mm to 25-30 km,
#:   ~40 km with base-bleed/rocket-assisted rounds): a 155 mm shell flies about
#:   60-100 s to 20-30 km, i.e. 250-450 m/s mean horizontal speed, faster on flat
#:   short shots, slower in high-angle fire: 200-900 m/s, at most 150 s;
#: * multiple rocket launchers (122 mm Grad ~20-40 km, 220 mm to 35 km, 300 mm
#:   and GMLRS to 70-90 km): burn-out speeds of 700-1500 m/s, mean horizontal
#:   speed 300-1000 m/s, about 1-3 min of flight;
#: * tactical ballistic missiles (Tochka-U 15-120 km, ATACMS/Iskander to
#:   ~300 km): 4-5 min to 300 km, 500-2000 m/s.
WEAPON_FAMILIES: Final = (
    WeaponFamily("mortar", "mortar", 100.0, 8_000.0, 20.0, 250.0, 70.0, 0.25),
    WeaponFamily("gun_lt100", "artillery_lt100", 500.0, 15_000.0, 150.0, 800.0, 90.0, 0.15),
    WeaponFamily("gun_ge100", "artillery_ge100", 1_000.0, 40_000.0, 200.0, 900.0, 150.0, 0.30),
    WeaponFamily("mlrs", "mlrs", 1_500.0, 90_000.0, 300.0, 1_000.0, 300.0, 0.20),
    WeaponFamily(
        "tactical_missile", "heavy_mlrs_missile", 15_000.0, 300_000.0, 500.0, 2_000.0, 420.0, 0.10
    ),
)


def _along(cov: FloatArray, azimuth_deg: FloatArray) -> FloatArray:
    """Variance (m²) of a position along ``azimuth_deg``; ``cov`` is ``(..., 3)`` ee, en, nn."""
    a = np.radians(azimuth_deg)
    ue, un = np.sin(a), np.cos(a)
    return np.asarray(
        cov[..., 0] * ue * ue + 2.0 * cov[..., 1] * ue * un + cov[..., 2] * un * un, dtype=float
    )


def _ndtr_integral(x: FloatArray) -> FloatArray:
    """Antiderivative of the standard normal CDF: ``x Φ(x) + φ(x)``."""
    return np.asarray(x * ndtr(x) + np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi), dtype=float)


def _mean_window_density(
    lo: FloatArray, hi: FloatArray, sigma: FloatArray, a: FloatArray, b: FloatArray
) -> FloatArray:
    """Mean over ``tau`` in ``[a, b]`` (s) of the uniform ``[lo, hi]`` density blurred by ``sigma``.

    The blurred density is ``(Φ((hi - tau) / sigma) - Φ((lo - tau) / sigma)) / (hi - lo)``
    per second; its integral over ``tau`` has a closed form
    (:func:`_ndtr_integral`). An interval shorter than a thousandth of
    ``sigma`` is scored at its middle (the difference is below 1e-6 relative).
    """
    width = np.maximum(hi - lo, 1e-9)
    span = b - a
    short = span <= 1e-3 * sigma
    mid = (a + b) / 2.0
    point = (ndtr((hi - mid) / sigma) - ndtr((lo - mid) / sigma)) / width
    safe_span = np.where(short, 1.0, span)
    integral = (
        _ndtr_integral((hi - a) / sigma)
        - _ndtr_integral((hi - b) / sigma)
        - _ndtr_integral((lo - a) / sigma)
        + _ndtr_integral((lo - b) / sigma)
    )
    mean = sigma * integral / (safe_span * width)
    return np.asarray(np.where(hi > lo, np.where(short, point, mean), 0.0), dtype=float)


def _family_likelihoods(
    config: TrajectoryConfig,
    r: FloatArray,
    var_r: FloatArray,
    tof_bounds: tuple[FloatArray, FloatArray],
    var_t: FloatArray,
    offsets: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Per-family pair likelihoods (per m per s, shape ``(n_family, *r.shape)``) and the gate.

    ``r``/``var_r`` are range (m) and its variance (m²); ``var_t`` the variance
    (s²) of the time ends.

    ``tof_bounds`` is the interval (s) the gate allows the time of flight in: an
    episode of several rounds fires over an interval and lands over another,
    and the first impact came from a round fired somewhere within the launch
    episode, so its flight time lies in ``[impact start - launch end, impact
    start - launch start]``; a pair passes the gate if, for some family, the
    point of that interval nearest the family's window is within
    ``gate_sigma`` of it (and the range is, too).

    ``offsets`` is the interval (s) the likelihood averages the time-of-flight
    density over: ``impact start - launch start`` and ``impact end - launch
    end`` (in either order), the shorter episode lying anywhere within the
    longer one (see the module docstring). ``None`` scores the point
    ``tof_bounds[1]`` (a single launch and impact time). Floors of 1 m and
    0.1 s keep exact inputs finite.
    """
    tof_lo, tof_hi = tof_bounds
    a, b = offsets if offsets is not None else (tof_hi, tof_hi)
    a, b = np.minimum(a, b), np.maximum(a, b)
    sigma_r = np.sqrt(var_r + 1.0)
    g = config.gate_sigma
    likelihoods = []
    gated = np.zeros(np.shape(r), dtype=bool)
    for fam in config.families:
        lo, hi = fam.window_s(r)
        tof = np.clip((lo + hi) / 2.0, tof_lo, tof_hi)
        speed2 = fam.min_speed_mps * fam.max_speed_mps
        sigma = np.sqrt(var_t + 0.01 + sigma_r**2 / speed2)
        p_range = (
            ndtr((fam.max_range_m - r) / sigma_r) - ndtr((fam.min_range_m - r) / sigma_r)
        ) / (fam.max_range_m - fam.min_range_m)
        p_time = _mean_window_density(lo, hi, sigma, a, b)
        likelihoods.append(fam.prior * p_range * p_time)
        in_range = (r >= fam.min_range_m - g * sigma_r) & (r <= fam.max_range_m + g * sigma_r)
        in_time = (hi > lo) & (tof >= lo - g * sigma) & (tof <= hi + g * sigma)
        gated |= in_range & in_time
    total_prior = sum(fam.prior for fam in config.families)
    return np.asarray(likelihoods, dtype=float) / total_prior, gated


def plausible_families(
    range_m: float,
    time_of_flight_s: float,
    config: TrajectoryConfig | None = None,
    *,
    range_sigma_m: float = 0.0,
    time_sigma_s: float = 0.0,
) -> tuple[tuple[str, float], ...]:
    """Weapon families whose envelope fits a range and a time of flight.

    Parameters
    ----------
    range_m, range_sigma_m
        Launch -> impact distance and its standard deviation, metres.
    time_of_flight_s, time_sigma_s
        Impact time minus launch time and its standard deviation, seconds.
    config
        Families and gate (defaults to
        :class:`~truceline.ground.trajectory.TrajectoryConfig`).

    Returns
    -------
    tuple
        ``(family, probability)`` among the families that fit, most probable
        first; empty when the pair fails the gate.
    """
    if config is None:
        # Imported here: trajectory imports this module, and its config holds the families.
        from truceline.ground.trajectory import TrajectoryConfig

        config = TrajectoryConfig()
    lik, gated = _family_likelihoods(
        config,
        np.array(float(range_m)),
        np.array(float(range_sigma_m) ** 2),
        (np.array(float(time_of_flight_s)), np.array(float(time_of_flight_s))),
        np.array(float(time_sigma_s) ** 2),
    )
    return _posterior(config, lik) if bool(gated) else ()


def _posterior(config: TrajectoryConfig, lik: FloatArray) -> tuple[tuple[str, float], ...]:
    """Families with their normalised share of the likelihood, most probable first."""
    total = float(lik.sum())
    if total <= 0.0:
        return ()
    ranked = [
        (fam.name, round(float(v) / total, 4))
        for fam, v in zip(config.families, lik, strict=True)
        if v / total >= 0.005
    ]
    return tuple(sorted(ranked, key=lambda item: (-item[1], item[0])))
