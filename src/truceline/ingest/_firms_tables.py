"""Constants of the NASA FIRMS formats and the uncertainty model built on them (private).

Sources
-------
* FIRMS attribute tables for VIIRS 375 m and MODIS C6.1 (NASA LANCE/FIRMS,
  "What is the attribute information?"): VIIRS ``satellite`` is ``N`` for
  Suomi NPP and ``1`` for NOAA-20 (JPSS-1) in the API and archive downloads,
  ``N20``/``N21`` in the NRT ``.txt`` files, ``2`` for NOAA-21 (JPSS-2);
  MODIS uses ``A``/``T`` (Aqua/Terra), some services spell them out.
  VIIRS ``confidence`` is low/nominal/high (``l``/``n``/``h`` in the API);
  MODIS ``confidence`` is 0–100 %, which FIRMS groups as low (< 30),
  nominal (30–79) and high (≥ 80). ``scan`` and ``track`` are the actual pixel
  dimensions in kilometres (along scan, along track); nadir pixels are 375 m
  (VIIRS I-band) and 1 km (MODIS).
* Schroeder et al. (2014), Remote Sensing of Environment 143:85–96: VIIRS 375 m
  commission errors below 1.2 % for nominal-confidence pixels.
* Geolocation accuracy, one standard deviation at nadir: about 75 m for VIIRS
  I-bands (Wolfe et al. 2013, JGR Atmospheres 118) and 50 m for MODIS
  (Wolfe et al. 2002, Remote Sensing of Environment 83).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONFIDENCE",
    "COUNTRY_PIXEL_M",
    "GEOLOCATION_SIGMA_M",
    "HEADER_INSTRUMENT",
    "MODIS",
    "NOMINAL_PIXEL_KM",
    "RELIABILITY",
    "SATELLITES",
    "TIME_SIGMA_S",
    "UNKNOWN",
    "VIIRS",
    "pixel_variance_m2",
]

VIIRS: Final = "VIIRS"
MODIS: Final = "MODIS"
UNKNOWN: Final = "unknown"

#: Satellite code as written by FIRMS (upper-cased) -> (instrument, satellite name).
SATELLITES: Final[dict[str, tuple[str, str]]] = {
    "N": (VIIRS, "Suomi-NPP"),
    "NPP": (VIIRS, "Suomi-NPP"),
    "1": (VIIRS, "NOAA-20"),
    "N20": (VIIRS, "NOAA-20"),
    "J1": (VIIRS, "NOAA-20"),
    "2": (VIIRS, "NOAA-21"),
    "N21": (VIIRS, "NOAA-21"),
    "J2": (VIIRS, "NOAA-21"),
    "A": (MODIS, "Aqua"),
    "AQUA": (MODIS, "Aqua"),
    "T": (MODIS, "Terra"),
    "TERRA": (MODIS, "Terra"),
}

#: Brightness column -> the instrument it implies (used when there is no
#: ``instrument`` column, and to cross-check the satellite code).
HEADER_INSTRUMENT: Final[dict[str, str]] = {"bright_ti4": VIIRS, "brightness": MODIS}

#: VIIRS classes mapped onto 0–1 at the midpoints of the MODIS percentage classes
#: (low [0, 30) -> 0.15, nominal [30, 80) -> 0.55, high [80, 100] -> 0.90), so that
#: one confidence scale serves both instruments. These are detection-quality
#: grades, not calibrated probabilities; fusion weighs them as such.
_VIIRS_CONFIDENCE: Final[dict[str, float]] = {
    "low": 0.15,
    "l": 0.15,
    "nominal": 0.55,
    "n": 0.55,
    "high": 0.90,
    "h": 0.90,
}

#: Instrument -> {raw confidence (lower-cased) -> confidence in [0, 1]}.
CONFIDENCE: Final[dict[str, dict[str, float]]] = {
    VIIRS: _VIIRS_CONFIDENCE,
    MODIS: {str(percent): percent / 100.0 for percent in range(101)},
}

#: Nominal (nadir) pixel size, kilometres, used when ``scan``/``track`` are absent.
NOMINAL_PIXEL_KM: Final[dict[str, float]] = {VIIRS: 0.375, MODIS: 1.0}

#: Geolocation error of the pixel centre, metres (one standard deviation).
#: Unknown instruments take the larger of the two.
GEOLOCATION_SIGMA_M: Final[dict[str, float]] = {VIIRS: 75.0, MODIS: 50.0, UNKNOWN: 75.0}

#: Pixel size assumed for the 3-column country export, metres. One kilometre
#: covers a MODIS nadir pixel and any VIIRS pixel but understates off-nadir MODIS
#: pixels (up to about 4.8 km x 2 km at the swath edge).
COUNTRY_PIXEL_M: Final = 1000.0

#: Standard deviation of a detection time, seconds. FIRMS gives ``acq_time`` to
#: the minute (scan time truncated or rounded); 60 s covers either reading
#: (the RMS error of truncation is 60/sqrt(3) = 35 s).
TIME_SIGMA_S: Final = 60.0

#: Prior probability that a detection is a real thermal anomaly (not a false
#: alarm from sun glint, bright surfaces or noise), per instrument. VIIRS nominal
#: pixels have < 1.2 % commission error (Schroeder et al. 2014), but low-confidence
#: pixels are included, hence 0.90; MODIS (coarser, more glint false alarms) 0.85;
#: the country export mixes both and has no confidence column, hence 0.85.
RELIABILITY: Final[dict[str, float]] = {VIIRS: 0.90, MODIS: 0.85, UNKNOWN: 0.85}


def pixel_variance_m2(width_m: float, geolocation_sigma_m: float) -> float:
    """Variance of the fire position along one pixel axis, m².

    The fire lies anywhere in the pixel, so its offset from the pixel centre is
    uniform over the width ``w`` (variance ``w²/12``); the centre itself carries
    the geolocation error.

    Parameters
    ----------
    width_m
        Pixel width along the axis, metres.
    geolocation_sigma_m
        Geolocation error of the pixel centre, metres (one standard deviation).
    """
    return width_m * width_m / 12.0 + geolocation_sigma_m * geolocation_sigma_m
