"""The report's static map, drawn with matplotlib (Agg, no pyplot state).

Layers, bottom to top: coverage areas of the period (faint grey), the
agreement's zones (light fills; zones without area as markers), parts of the
assessed zones no sensor observed (hatched), the contact line, and each
finding's 95 % location ellipse coloured by severity, escalated findings
outlined in black with a star at the best estimate. The axes use plate carrée
lon/lat with an aspect of 1/cos(mean latitude), so distances east and north
look alike near the map's centre.

Output is deterministic: PNG metadata carries no software or time stamp, the
SVG hash salt is fixed, and layers are drawn in sorted order.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, Final

import matplotlib as mpl
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely.geometry.base import BaseGeometry

from truceline.model.finding import Finding
from truceline.model.geo import WGS84_GEOD
from truceline.model.vocab import SEVERITIES, severity_rank
from truceline.reports._mplgeom import add_area, lines, points
from truceline.reports.base import EscalationScale, MapAgreement, ReportError
from truceline.reports.gaps import ZoneCoverage
from truceline.reports.geometry import ellipse_polygon

__all__ = ["SEVERITY_COLOURS", "render_map"]

#: Fill colour of each severity (ColorBrewer RdYlBu, colour-blind safe).
SEVERITY_COLOURS: Final = {
    "minor": "#4575b4",
    "moderate": "#fdae61",
    "serious": "#d73027",
    "critical": "#67001f",
}

#: Zone outline colours in the agreement's zone order (no reds or greys: those mean
#: severity, gaps and coverage); after one cycle the outlines turn dashed.
_ZONE_COLOURS: Final = (
    "#1f78b4",
    "#33a02c",
    "#6a3d9a",
    "#b15928",
    "#17becf",
    "#bcbd22",
    "#ff7f0e",
    "#e377c2",
)
_ZONE_LINESTYLES: Final = ("-", "--", ":")
_ZONE_FILL_ALPHA: Final = 0.10

_COVERAGE: Final = "#737373"
_COVERAGE_EDGE: Final = "#525252"
_GAP: Final = "#b2182b"

_STYLE: Final[dict[Any, Any]] = {
    "svg.hashsalt": "truceline",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "hatch.linewidth": 0.8,
    "path.simplify": True,
}

_MARGIN: Final = 0.1
_MIN_MARGIN_M: Final = 20_000.0
_M_PER_DEG_LAT: Final = 111_320.0
_UNKNOWN_SCALE: Final = EscalationScale()


def render_map(
    agreement: MapAgreement,
    findings: Sequence[Finding],
    coverage_areas: Sequence[BaseGeometry],
    gaps: Sequence[ZoneCoverage],
    title: str,
    *,
    scale: EscalationScale = _UNKNOWN_SCALE,
    width_in: float = 10.0,
    dpi: int = 100,
) -> bytes:
    """Draw the map and return PNG bytes.

    Parameters
    ----------
    agreement
        Supplies the contact line and zones (lon/lat degrees).
    findings
        Findings to draw as 95 % ellipses.
    coverage_areas
        Coverage areas of the period, lon/lat degrees, drawn faintly.
    gaps
        Assessed zones; their unobserved parts are hatched.
    title
        Map title (drawn literally: ``$`` does not start mathtext).
    scale
        Decides which findings are drawn as escalated.
    width_in
        Figure width, inches; the height follows the map's shape.
    dpi
        Resolution, dots per inch.

    Raises
    ------
    ReportError
        If there is nothing with a location to draw.
    """
    ordered = sorted(findings, key=lambda f: (severity_rank(f.severity), f.time, f.id))
    ellipses = [ellipse_polygon(f.lon, f.lat, f.ellipse(0.95)) for f in ordered]
    xlim, ylim = _extent(agreement, ellipses)
    aspect = 1.0 / math.cos(math.radians((ylim[0] + ylim[1]) / 2.0))
    # The axes take about 70 % of the width (the legend sits to the right).
    axes_height = 0.7 * width_in * aspect * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    height_in = min(max(axes_height + 1.4, 4.0), 1.5 * width_in)
    with mpl.rc_context(_STYLE):
        figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        _draw_layers(axes, agreement, coverage_areas, gaps)
        _draw_findings(axes, ordered, ellipses, scale)
        _legend(axes, agreement, findings, coverage_areas, gaps, scale)
        axes.set_xlim(*xlim)
        axes.set_ylim(*ylim)
        axes.set_aspect(aspect, adjustable="box")
        axes.set_xlabel("longitude (° east)")
        axes.set_ylabel("latitude (° north)")
        axes.grid(True, linewidth=0.3, color="#999999")
        _scale_bar(axes, xlim, ylim)
        axes.set_title(title, parse_math=False)
        buffer = io.BytesIO()
        figure.savefig(
            buffer, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1
        )
    return buffer.getvalue()


def _extent(
    agreement: MapAgreement, ellipses: Sequence[BaseGeometry]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Map limits ``((west, east), (south, north))`` in degrees.

    The map frames the contact line and the findings, with a margin of a tenth
    of the span but at least 20 km, so the bands next to the line show; wide
    rear zones are clipped (their coverage is in the table). With neither a
    line nor findings, it frames the zones.
    """
    shapes = [g for g in (agreement.contact_line, *ellipses) if not g.is_empty]
    if not shapes:
        shapes = [g for g in map(agreement.zone_geometry, agreement.zone_ids) if not g.is_empty]
    if not shapes:
        raise ReportError("nothing to map: the contact line, zones and findings are all empty")
    boxes = np.asarray([g.bounds for g in shapes], dtype=float)
    west, south = float(boxes[:, 0].min()), float(boxes[:, 1].min())
    east, north = float(boxes[:, 2].max()), float(boxes[:, 3].max())
    min_pad_lat = _MIN_MARGIN_M / _M_PER_DEG_LAT
    min_pad_lon = min_pad_lat / max(math.cos(math.radians((south + north) / 2.0)), 0.1)
    pad_x = max((east - west) * _MARGIN, min_pad_lon)
    pad_y = max((north - south) * _MARGIN, min_pad_lat)
    return (west - pad_x, east + pad_x), (max(south - pad_y, -90.0), min(north + pad_y, 90.0))


def _draw_layers(
    axes: Any,
    agreement: MapAgreement,
    coverage_areas: Sequence[BaseGeometry],
    gaps: Sequence[ZoneCoverage],
) -> None:
    # Largest first, so nested bands and small sites stay visible on top.
    zones = [
        (style, agreement.zone_geometry(zone_id)) for style, zone_id in _zone_styles(agreement)
    ]
    for (colour, linestyle), geometry in sorted(zones, key=lambda z: -z[1].area):
        if geometry.area > 0.0:
            add_area(
                axes,
                geometry,
                facecolor=to_rgba(colour, _ZONE_FILL_ALPHA),
                edgecolor=colour,
                linestyle=linestyle,
                linewidth=1.1,
                zorder=1,
            )
            continue
        # Zones without area: lines dashed, declared sites (points) as squares.
        for line in lines(geometry):
            axes.plot(*line.xy, color=colour, linestyle=linestyle, linewidth=1.2, zorder=1)
        xs, ys = points(geometry)
        axes.plot(
            xs,
            ys,
            linestyle="none",
            marker="s",
            markersize=5,
            color=colour,
            markeredgecolor="black",
            markeredgewidth=0.6,
            zorder=4.5,
        )
    if coverage_areas:
        # One union, so overlapping windows do not stack into darker patches.
        observed = shapely.union_all(list(coverage_areas))
        add_area(axes, observed, facecolor=_COVERAGE, edgecolor="none", alpha=0.18, zorder=2)
        add_area(
            axes,
            observed,
            facecolor="none",
            edgecolor=_COVERAGE_EDGE,
            linewidth=0.7,
            linestyle="--",
            zorder=2,
        )
    unobserved = shapely.union_all([gap.unobserved for gap in gaps])
    add_area(
        axes, unobserved, facecolor="none", edgecolor=_GAP, hatch="///", linewidth=0.0, zorder=3
    )
    for line in lines(agreement.contact_line):
        axes.plot(*line.xy, color="black", linewidth=1.8, zorder=4)


def _draw_findings(
    axes: Any,
    findings: Sequence[Finding],
    ellipses: Sequence[BaseGeometry],
    scale: EscalationScale,
) -> None:
    """Ellipses in the given order (least severe first, so the worst are on top)."""
    for finding, polygon in zip(findings, ellipses, strict=True):
        colour = SEVERITY_COLOURS[finding.severity]
        escalated = scale.top(finding.escalation_level)
        add_area(
            axes,
            polygon,
            facecolor=colour,
            alpha=0.45,
            zorder=5,
            edgecolor="black" if escalated else colour,
            linewidth=2.0 if escalated else 0.6,
        )
        axes.plot(
            [finding.lon],
            [finding.lat],
            marker="*" if escalated else "o",
            markersize=9 if escalated else 2.5,
            color=colour,
            markeredgecolor="black",
            markeredgewidth=0.5,
            zorder=6,
        )


def _legend(
    axes: Any,
    agreement: MapAgreement,
    findings: Sequence[Finding],
    coverage_areas: Sequence[BaseGeometry],
    gaps: Sequence[ZoneCoverage],
    scale: EscalationScale,
) -> None:
    handles: list[Any] = []
    for (colour, linestyle), zone_id in _zone_styles(agreement):
        label = _label(f"zone {zone_id}")
        if agreement.zone_geometry(zone_id).area > 0.0:
            handles.append(
                Patch(
                    facecolor=to_rgba(colour, 2 * _ZONE_FILL_ALPHA),
                    edgecolor=colour,
                    linestyle=linestyle,
                    label=label,
                )
            )
        else:
            has_points = bool(points(agreement.zone_geometry(zone_id))[0])
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none" if has_points else linestyle,
                    marker="s" if has_points else "",
                    color=colour,
                    markeredgecolor="black",
                    label=label,
                )
            )
    if coverage_areas:
        handles.append(
            Patch(
                facecolor=_COVERAGE,
                alpha=0.3,
                edgecolor=_COVERAGE_EDGE,
                linestyle="--",
                label="sensor coverage (period)",
            )
        )
    if any(not gap.unobserved.is_empty for gap in gaps):
        handles.append(
            Patch(facecolor="none", edgecolor=_GAP, hatch="///", label="not observed (zone)")
        )
    handles.append(Line2D([], [], color="black", linewidth=1.8, label="contact line"))
    present = {f.severity for f in findings}
    handles.extend(
        Patch(facecolor=SEVERITY_COLOURS[s], alpha=0.6, label=f"{s} (95% ellipse)")
        for s in SEVERITIES
        if s in present
    )
    if any(scale.top(f.escalation_level) for f in findings):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=9,
                color="white",
                markeredgecolor="black",
                label=f"escalated to {scale.levels[-1] if scale.levels else 'top level'}",
            )
        )
    axes.figure.legend(handles=handles, loc="outside right upper", fontsize=7, frameon=False)


def _zone_styles(agreement: MapAgreement) -> list[tuple[tuple[str, Any], str]]:
    """``((colour, linestyle), zone_id)`` per zone, in the agreement's order."""
    n = len(_ZONE_COLOURS)
    return [
        ((_ZONE_COLOURS[i % n], _ZONE_LINESTYLES[(i // n) % len(_ZONE_LINESTYLES)]), zone_id)
        for i, zone_id in enumerate(agreement.zone_ids)
    ]


def _scale_bar(axes: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """A bar of a round number of kilometres, about a fifth of the map's width."""
    lat = ylim[0] + 0.06 * (ylim[1] - ylim[0])
    lon = xlim[0] + 0.04 * (xlim[1] - xlim[0])
    _, _, width_m = WGS84_GEOD.inv(xlim[0], lat, xlim[1], lat)
    target_km = max(float(width_m) / 5000.0, 0.001)
    magnitude = 10.0 ** math.floor(math.log10(target_km))
    length_km = max(f * magnitude for f in (1.0, 2.0, 5.0) if f * magnitude <= target_km)
    end_lon, _, _ = WGS84_GEOD.fwd(lon, lat, 90.0, length_km * 1000.0)
    axes.plot(
        [lon, end_lon], [lat, lat], color="black", linewidth=3, solid_capstyle="butt", zorder=7
    )
    axes.text(
        (lon + end_lon) / 2.0,
        lat + 0.012 * (ylim[1] - ylim[0]),
        f"{length_km:g} km",
        ha="center",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1.0},
        va="bottom",
        fontsize=8,
        zorder=7,
    )


def _label(text: str) -> str:
    """Legend text drawn literally: ``$`` would otherwise start mathtext."""
    return text.replace("$", r"\$")
