"""The self-contained HTML report page.

One file, readable offline and in an air-gapped office: inline CSS, the map as
a base64 PNG, no scripts, no web fonts, no external links. Every piece of text
that comes from data (titles, ids, explanations, zone and party names) goes
through :func:`html.escape`, because findings may quote hostile input.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from truceline._version import __version__
from truceline.agreement.patterns import is_pattern_finding
from truceline.model.coverage import Coverage
from truceline.model.finding import Finding
from truceline.model.ids import canonical_json
from truceline.model.timeutil import format_utc
from truceline.model.vocab import SEVERITIES
from truceline.reports.base import SUMMARY_KEYS, EscalationScale, ReportInput
from truceline.reports.gaps import ZoneCoverage
from truceline.reports.text import fmt_area_km2, fmt_km, fmt_m, fmt_percent

__all__ = ["render_page"]

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:72em;padding:0 1em;color:#1a1a1a;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}.n{font-variant-numeric:tabular-nums;white-space:nowrap}
code,.hash{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em;
word-break:break-all}
.sev-minor{color:#4575b4}.sev-moderate{color:#b35806}.sev-serious{color:#d73027}
.sev-critical{color:#67001f;font-weight:bold}
tr.escalated td{background:#fff1f0}tr.detail td{border-top:none;background:#fafafa}
.gap{color:#b2182b}.muted{color:#666}img.map{max-width:100%;height:auto;border:1px solid #ccc}
details summary{cursor:pointer}
"""

_FINDING_HEADERS: Final = (
    "time (UTC)",
    "rule",
    "kind",
    "severity",
    "status",
    "confidence",
    "side / party",
    "distance to line",
    "zone",
    "escalation",
    "evidence",
    "95% ellipse (a × b, azimuth)",
)


def render_page(
    data: ReportInput,
    period: tuple[datetime, datetime],
    findings: Sequence[Finding],
    gaps: Sequence[ZoneCoverage],
    coverage: Sequence[Coverage],
    map_png: bytes,
    sections: tuple[datetime, Sequence[tuple[str, Sequence[ZoneCoverage], Sequence[ZoneCoverage]]]]
    | None = None,
) -> bytes:
    """The report page as UTF-8 bytes.

    Parameters
    ----------
    data
        The report input (agreement, events, summary, title).
    period
        Reporting period ``(start, end)``, UTC.
    findings
        Findings in output order.
    gaps
        Coverage of the assessed zones.
    coverage
        Coverage windows that overlapped the period.
    map_png
        The map, embedded as a data URI.
    sections
        Start of the last 24 h of the period, and per coverage target the zone
        coverage over the whole period and over those 24 h.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(data.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        *_header(data, period),
        *_summary(data, findings),
        *_map(map_png, data.title),
        *_gaps(gaps, coverage, period),
        *([] if sections is None else _target_gaps(sections, period)),
        *_findings(findings, data.escalation()),
        *_escalations(findings, data.escalation()),
        *_footer(data),
        "</body></html>",
    ]
    return ("\n".join(parts) + "\n").encode("utf-8")


def _header(data: ReportInput, period: tuple[datetime, datetime]) -> list[str]:
    agreement = data.agreement
    parties = ", ".join(agreement.parties) or "none listed"
    return [
        f"<h1>{_e(data.title)}</h1>",
        f"<p>Period: <b>{_e(format_utc(period[0]))}</b> to <b>{_e(format_utc(period[1]))}</b>"
        f"<br>Agreement: {_e(agreement.title)} (<code>{_e(agreement.id)}</code>), "
        f"version {_e(agreement.version)}, content id <code>{_e(agreement.version_id)}</code>"
        f"<br>Parties: {_e(parties)}</p>",
    ]


def _summary(data: ReportInput, findings: Sequence[Finding]) -> list[str]:
    summary = data.summary
    scale = data.escalation()
    observations = summary.get("observations", "not stated")
    out = [
        "<h2>Summary</h2>",
        "<table>",
        _row(["observations", _e(observations)], header_first=True),
        _row(["events", _e(len(data.events))], header_first=True),
        _row(["findings", _e(len(findings))], header_first=True),
        _row(
            [
                "escalated findings",
                _e(sum(1 for f in findings if scale.escalated(f.escalation_level))),
            ],
            header_first=True,
        ),
        "</table>",
        *_findings_by_severity(findings),
        *_counts_table(
            "Findings by escalation level",
            "escalation level",
            Counter(f.escalation_level for f in findings),
            scale.order(f.escalation_level for f in findings),
        ),
        *_counts_table("Events by kind", "kind", Counter(e.kind for e in data.events)),
        *_verification(summary, data),
    ]
    extra = sorted(k for k in summary if k not in SUMMARY_KEYS)
    if extra:
        out += ["<h3>Run details</h3>", "<table>"]
        out += [
            _row([_e(k), f"<code>{_e(_plain(summary[k]))}</code>"], header_first=True)
            for k in extra
        ]
        out.append("</table>")
    return out


def _findings_by_severity(findings: Sequence[Finding]) -> list[str]:
    statuses = sorted({f.status for f in findings})
    counts = Counter((f.severity, f.status) for f in findings)
    out = [
        "<h3>Findings by severity and status</h3>",
        "<table>",
        _header_row(["severity", *statuses, "total"]),
    ]
    for severity in SEVERITIES:
        cells = [counts[(severity, s)] for s in statuses]
        out.append(
            _row(
                [
                    f'<span class="sev-{severity}">{severity}</span>',
                    *(_num(c) for c in cells),
                    _num(sum(cells)),
                ],
                header_first=True,
            )
        )
    out.append("</table>")
    return out


def _counts_table(
    title: str, label: str, counts: Counter[str], order: Sequence[str] | None = None
) -> list[str]:
    if not counts:
        return [f"<h3>{_e(title)}</h3>", "<p>None.</p>"]
    out = [f"<h3>{_e(title)}</h3>", "<table>", _header_row([_e(label), "count"])]
    keys = sorted(counts) if order is None else order
    out += [_row([_e(key), _num(counts[key])], header_first=True) for key in keys]
    out.append("</table>")
    return out


def _verification(summary: Mapping[str, Any], data: ReportInput) -> list[str]:
    def value(key: str) -> str:
        return _e(_plain(summary[key])) if key in summary else "not stated"

    return [
        "<h3>Check this report against the evidence log</h3>",
        "<table>",
        _row(["evidence log size (records)", value("log_size")], header_first=True),
        _row(
            ["log root hash (RFC 9162)", f'<span class="hash">{value("root_hash")}</span>'],
            header_first=True,
        ),
        _row(["run digest", f'<span class="hash">{value("run_digest")}</span>'], header_first=True),
        _row(
            ["agreement content id", f'<span class="hash">{_e(data.agreement.version_id)}</span>'],
            header_first=True,
        ),
        "</table>",
        "<p>Anyone holding the evidence log can recompute the Merkle root of its first "
        f"{value('log_size')} records, which must equal the root hash above, and re-run the "
        "pipeline on that prefix with the same agreement version and configuration, which "
        "must reproduce the run digest and these findings byte for byte.</p>",
    ]


def _map(map_png: bytes, title: str) -> list[str]:
    encoded = base64.b64encode(map_png).decode("ascii")
    return [
        "<h2>Map</h2>",
        f'<img class="map" src="data:image/png;base64,{encoded}" alt="{_e("Map of " + title)}">',
        '<p class="muted">Findings are drawn as 95% location ellipses coloured by severity; '
        "escalated findings are outlined in black with a star. Grey: area within some "
        "sensor's coverage during the period. Hatched: parts of assessed zones no sensor "
        "observed.</p>",
    ]


def _gaps(
    gaps: Sequence[ZoneCoverage], coverage: Sequence[Coverage], period: tuple[datetime, datetime]
) -> list[str]:
    sensors = len({c.sensor_id for c in coverage})
    out = [
        "<h2>Coverage gaps: what was not observed</h2>",
        f"<p>{_plural(len(coverage), 'coverage window')} from {_plural(sensors, 'sensor')} "
        "overlapped the period. A place counts as observed if it lay inside any of them at "
        "any time, whatever the detection probability, so the unobserved shares below are "
        "lower bounds on what could have been missed. No finding in an unobserved area means "
        "<em>not observed</em>, not <em>nothing happened</em>.</p>",
    ]
    if not gaps:
        return [*out, "<p>No zone with an area was assessed.</p>"]
    out += [
        "<table>",
        _header_row(["zone", "area", "observed", "not observed", "coverage windows"]),
    ]
    for gap in gaps:
        out.append(
            _row(
                [
                    _e(gap.zone_id),
                    _num(fmt_area_km2(gap.area_m2)),
                    _num(fmt_percent(gap.fraction_observed)),
                    f'<span class="gap">{_e(fmt_percent(gap.fraction_unobserved))}</span>',
                    _num(gap.windows),
                ],
                header_first=True,
            )
        )
    out.append("</table>")
    out += ["<ul>"] + [f"<li>{_e(g.statement(*period))}</li>" for g in gaps] + ["</ul>"]
    return out


def _target_gaps(
    sections: tuple[datetime, Sequence[tuple[str, Sequence[ZoneCoverage], Sequence[ZoneCoverage]]]],
    period: tuple[datetime, datetime],
) -> list[str]:
    """Per coverage target (what the sensors could see), the observed share of each zone."""
    recent_start, per_target = sections
    hours = (period[1] - recent_start).total_seconds() / 3600.0
    out: list[str] = []
    for target, whole, last in per_target:
        if not whole:
            continue
        out += [
            f"<h3>Observed for <code>{_e(target)}</code></h3>",
            "<table>",
            _header_row(["zone", "observed (period)", f"observed (last {hours:.0f} h)",
                         f"not observed (last {hours:.0f} h)"]),
        ]  # fmt: skip
        recent = {g.zone_id: g for g in last}
        for gap in whole:
            latest = recent.get(gap.zone_id)
            out.append(
                _row(
                    [
                        _e(gap.zone_id),
                        _num(fmt_percent(gap.fraction_observed)),
                        _num(fmt_percent(latest.fraction_observed)) if latest else "–",
                        f'<span class="gap">{_e(fmt_percent(latest.fraction_unobserved))}</span>'
                        if latest
                        else "–",
                    ],
                    header_first=True,
                )
            )
        out.append("</table>")
        out += (
            ["<ul>"]
            + [f"<li>{_e(g.statement(recent_start, period[1]))}</li>" for g in last]
            + ["</ul>"]
        )
    return out


def _findings(findings: Sequence[Finding], scale: EscalationScale) -> list[str]:
    out = ["<h2>Findings</h2>"]
    if not findings:
        return [*out, "<p>No findings in this period.</p>"]
    out += ["<table>", _header_row(["finding", *_FINDING_HEADERS])]
    for finding in findings:
        out += _finding_rows(finding, scale)
    out.append("</table>")
    return out


def _finding_rows(finding: Finding, scale: EscalationScale) -> list[str]:
    ellipse = finding.ellipse(0.95)
    escalated = scale.escalated(finding.escalation_level)
    cells = [
        f"<code>{_e(finding.id[:12])}</code>",
        _e(format_utc(finding.time)),
        _e(finding.rule_id),
        _e(finding.kind),
        f'<span class="sev-{_e(finding.severity)}">{_e(finding.severity)}</span>',
        _e(finding.status),
        _num(fmt_percent(finding.confidence)),
        f"{_e(finding.side or '—')} / {_e(finding.party or '—')}",
        _num(fmt_km(finding.distance_to_line_m)),
        _e(finding.zone_id or "—"),
        f"<b>{_e(finding.escalation_level)}</b>" if escalated else _e(finding.escalation_level),
        _num(len(finding.evidence)),
        _num(
            f"{fmt_m(ellipse.semi_major_m)} × {fmt_m(ellipse.semi_minor_m)}, "
            f"{ellipse.orientation_deg:.0f}°"
        ),
    ]
    row_class = ' class="escalated"' if escalated else ""
    evidence = "".join(f"<li><code>{_e(item)}</code></li>" for item in finding.evidence)
    detail = (
        f'<tr class="detail"><td colspan="{len(cells)}"><details>'
        f"<summary>Explanation and {_plural(len(finding.evidence), _evidence_noun(finding))}"
        "</summary>"
        f"<p>Finding <code>{_e(finding.id)}</code>, event <code>{_e(finding.event_id)}</code>, "
        f"at {finding.lat:.5f}° N {finding.lon:.5f}° E ± {_e(fmt_m(ellipse.semi_major_m))} "
        f"(95%), time ± {finding.time_sigma_s:g} s.</p>"
        f"<p>{_e(finding.explanation)}</p>"
        f"<ol>{evidence}</ol></details></td></tr>"
    )
    return [
        f'<tr id="finding-{_e(finding.id)}"{row_class}>'
        + "".join(f"<td>{c}</td>" for c in cells)
        + "</tr>",
        detail,
    ]


def _escalations(findings: Sequence[Finding], scale: EscalationScale) -> list[str]:
    """Escalated findings, highest level first, then by time."""
    escalated = [f for f in findings if scale.escalated(f.escalation_level)]
    out = ["<h2>Escalations</h2>"]
    if not escalated:
        return [*out, "<p>No finding in this report reached an escalation level.</p>"]
    out += [
        "<table>",
        _header_row(
            [
                "level",
                "time (UTC)",
                "severity",
                "rule",
                "status",
                "confidence",
                "zone",
                "party",
                "finding",
            ]
        ),
    ]
    ranked = sorted(escalated, key=lambda f: (-scale.rank(f.escalation_level), f.time, f.id))
    for finding in ranked:
        out.append(
            _row(
                [
                    f"<b>{_e(finding.escalation_level)}</b>",
                    _e(format_utc(finding.time)),
                    f'<span class="sev-{_e(finding.severity)}">{_e(finding.severity)}</span>',
                    _e(finding.rule_id),
                    _e(finding.status),
                    _num(fmt_percent(finding.confidence)),
                    _e(finding.zone_id or "—"),
                    _e(finding.party or "—"),
                    f'<a href="#finding-{_e(finding.id)}"><code>{_e(finding.id[:12])}</code></a>',
                ]
            )
        )
    out.append("</table>")
    return out


def _footer(data: ReportInput) -> list[str]:
    return [
        '<hr><p class="muted">Generated by truceline '
        f"{_e(__version__)} with agreement <code>{_e(data.agreement.id)}</code> "
        f"version {_e(data.agreement.version)}. "
        'Machine-readable: <a href="findings.geojson">findings.geojson</a> (points and 95% '
        'ellipses), <a href="findings.csv">findings.csv</a>, <a href="map.png">map.png</a>.</p>',
    ]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: object) -> str:
    return f'<span class="n">{_e(value)}</span>'


def _evidence_noun(finding: Finding) -> str:
    """What a finding's evidence list holds: observations, or a pattern's member findings."""
    return "member finding" if is_pattern_finding(finding) else "evidence record"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _plain(value: Any) -> str:
    """Summary value as text; containers as canonical JSON so the order is stable."""
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, Mapping | list | tuple):
        return canonical_json(value).decode("utf-8")
    return str(value)


def _row(cells: Iterable[str], *, header_first: bool = False) -> str:
    items = list(cells)
    if header_first and items:
        return (
            "<tr><th>" + items[0] + "</th>" + "".join(f"<td>{c}</td>" for c in items[1:]) + "</tr>"
        )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in items) + "</tr>"


def _header_row(cells: Iterable[str]) -> str:
    return "<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>"
