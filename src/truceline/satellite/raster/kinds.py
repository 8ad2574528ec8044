"""What a detected region is (its observation kind), and whether it is more than noise.

**Kind.** Each region gets the first kind it qualifies for, in order:

* SAR (``log_ratio``, ``pwtt``) and ``brightness``: a *decrease* is
  ``surface_change`` — craters and fresh earthworks brighten radar (new
  roughness, corner reflection of spoil and berms); burning, flooding and
  smoothing darken it. An increase is classed by shape (:func:`shape_kind`:
  ``earthworks`` if elongated, ``crater`` if compact and small, else
  ``surface_change``).
* ``ndvi`` (vegetation loss only): by shape.
* ``dnbr`` (NBR loss only): ``earthworks`` if elongated (a line of fresh soil);
  ``burn_scar`` only with the burn signature — NIR down *and* SWIR2 up, each
  mean band change beyond :data:`BURN_SIGNATURE_SIGMAS` robust standard
  deviations of the scene's ordinary change of that band — a mean dNBR of at
  least :data:`BURN_DNBR_MIN` and a core area of at least
  :data:`BURN_AREA_MIN_M2`; anything else is ``surface_change``. Bare soil
  exposed on a vegetated field (ploughing, harvest, a crater's ejecta, a
  trench's spoil) also lowers NIR and raises SWIR2: the USGS "low" severity
  class (dNBR 0.1-0.27) is where the two overlap, and a crater-sized patch
  cannot be told from a crater's ejecta apron, so neither makes a burn scar.

**Size.** A kind needs at least :func:`min_pixels` pixels: the base count of
:data:`MIN_PIXELS` (at 10 m pixels: a crater's ejecta apron, 10-15 m craters
throwing soil over about twice their diameter, covers ~3 pixels; earthworks are
at least 50 m long, 5 pixels; a burn scar is at least 0.1 ha, 10 pixels) and,
with a W x W spatial window, at least W² — the window spreads even a one-pixel
change over W x W pixels, so a smaller region is only the tip of a marginal
peak, which is what noise looks like. A region too small for its kind falls to
the next one (a small burn-like patch is ``surface_change``); one too small
for every kind is dropped unless its peak passes the **object test**: a
family-wise (Šidák) test over the scene's ``N / W²`` independent windows at
level alpha (the run's FDR), so that a whole noise scene yields a false small
object with probability about alpha (:func:`object_threshold`). The object
test needs a calibrated null in the far tail, so only the SAR z-scores have
one; optical index differences are scaled by the bulk of the scene, whose
tails (water, shadow, bright targets) it does not describe, and there the
minimum sizes are strict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import special

from truceline.satellite.raster.null import NullModel
from truceline.satellite.raster.vectorise import CRATER_AREA_MAX_M2, ShapeFacts, shape_kind

__all__ = [
    "BURN_AREA_MIN_M2",
    "BURN_DNBR_MIN",
    "BURN_SIGNATURE_SIGMAS",
    "MIN_PIXELS",
    "BandChange",
    "burn_signature",
    "candidate_kinds",
    "choose_kind",
    "min_pixels",
    "object_threshold",
]

#: Smallest mean dNBR of a ``burn_scar``: the USGS moderate-low severity bound
#: (Key & Benson 2006); 0.1-0.27 ("low") is shared with exposed soil.
BURN_DNBR_MIN = 0.27
#: Smallest core area of a ``burn_scar``, m²: twice the largest crater (with its
#: ejecta apron), whose fresh soil on a green field looks like a burn in NBR.
BURN_AREA_MIN_M2 = 2.0 * CRATER_AREA_MAX_M2
#: A band "went down" / "went up" when its mean change over the region is this
#: many robust standard deviations of the scene's change of that band.
BURN_SIGNATURE_SIGMAS = 2.0
#: Base minimum of detected pixels per kind (see the module notes); other kinds: 1.
MIN_PIXELS: Mapping[str, int] = {
    "crater": 3,
    "earthworks": 5,
    "burn_scar": 10,
    "surface_change": 3,
}


@dataclass(frozen=True)
class BandChange:
    """A region's mean change of one band, and the scene's ordinary change of it.

    Attributes
    ----------
    mean
        Mean over the region of ``(post - pre) / (post + pre)``.
    null
        The scene's distribution of that change (centre = median, robust scale).
    """

    mean: float
    null: NullModel

    @property
    def sigmas(self) -> float:
        """The region's mean change in robust standard deviations from the scene's centre."""
        return (self.mean - self.null.centre) / self.null.scale


def burn_signature(nir: BandChange, swir2: BandChange) -> bool:
    """Whether NIR fell and SWIR2 rose, each beyond :data:`BURN_SIGNATURE_SIGMAS`."""
    if not (math.isfinite(nir.mean) and math.isfinite(swir2.mean)):
        return False
    return nir.sigmas <= -BURN_SIGNATURE_SIGMAS and swir2.sigmas >= BURN_SIGNATURE_SIGMAS


def min_pixels(kind: str, window: int) -> int:
    """Fewest detected pixels a region of ``kind`` needs, with a ``window``-pixel window."""
    return max(MIN_PIXELS.get(kind, 1), window * window)


def candidate_kinds(
    method: str,
    sign: int,
    facts: ShapeFacts,
    *,
    burn_like: bool = False,
    mean_dnbr: float = float("nan"),
) -> list[str]:
    """Kinds a region may be, most specific first (``surface_change`` always last).

    Parameters
    ----------
    method
        The run's method.
    sign
        +1 for an increase of the statistic, -1 for a decrease.
    facts
        The region's core area and blur-corrected length and width.
    burn_like
        dNBR: whether the region has the burn signature (:func:`burn_signature`).
    mean_dnbr
        dNBR: the region's mean dNBR.
    """
    kinds: list[str] = []
    if method == "dnbr":
        if shape_kind(facts) == "earthworks":
            kinds.append("earthworks")
        if burn_like and mean_dnbr >= BURN_DNBR_MIN and facts.area_m2 >= BURN_AREA_MIN_M2:
            kinds.append("burn_scar")
    elif sign > 0 or method == "ndvi":
        kinds.append(shape_kind(facts))
    if "surface_change" not in kinds:
        kinds.append("surface_change")
    return kinds


def choose_kind(
    candidates: Sequence[str], n_pixels: int, window: int, significant: bool
) -> str | None:
    """The first candidate the region is large enough for; else the first one when its
    peak passed the object test (``significant``), else None (dropped)."""
    for kind in candidates:
        if n_pixels >= min_pixels(kind, window):
            return kind
    return candidates[0] if significant else None


def object_threshold(null: NullModel, alpha: float, valid_pixels: int, window: int) -> float:
    """Statistic value a region's peak must reach to stand alone, whatever its size.

    Šidák over ``M = valid_pixels / window²`` independent windows: the per-window
    tail probability is ``1 - (1 - alpha)^(1/M)``; returned in the statistic's
    units (an absolute value for a two-sided null). Use it only for statistics
    with a calibrated null (z-scores; see the module notes).
    """
    windows = max(valid_pixels / float(window * window), 1.0)
    p = -math.expm1(math.log1p(-alpha) / windows)
    tail = p / 2.0 if null.two_sided else p
    z = -float(special.ndtri(tail))
    # A two-sided null is centred on 0 (a signed z-score); one-sided on the scene's median.
    return null.scale * z if null.two_sided else null.centre + null.scale * z
