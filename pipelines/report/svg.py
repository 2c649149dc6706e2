"""Plain inline SVG charts: horizontal bars and histograms, no script, nothing to fetch.

Every label and number that reaches the markup goes through `esc`, so data text
(reasons, languages, prompt names) can never become markup.
"""
import bisect
import math
from html import escape

LIMIT = "#c53030"  # threshold lines
COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096", "#d69e2e", "#319795"]
WIDTH = 720
LABEL_W = 230
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def esc(value) -> str:
    return escape(str(value), quote=True)


def number(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{int(value):,}"


def _legend(series: list[str], y: int) -> str:
    parts, x = [], LABEL_W
    for i, name in enumerate(series):
        color = COLORS[i % len(COLORS)]
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{y + 9}">{esc(name)}</text>')
        x += 24 + 7 * len(str(name))
    return "".join(parts)


def _open(chart_id: str, kind: str, title: str, height: int) -> str:
    return (f'<svg class="plot plot-{esc(kind)}" id="{esc(chart_id)}" xmlns="http://www.w3.org/2000/svg" '
            f'role="img" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" {FONT}>'
            f'<title>{esc(title)}</title>'
            f'<text x="0" y="14" font-weight="bold" font-size="13">{esc(title)}</text>')


def hbars(chart_id: str, title: str, labels: list, series: dict[str, list[float]], stacked: bool = True,
          fmt=number) -> str:
    """One row per label; several series are stacked (parts of a whole) or grouped (to compare)."""
    names = list(series)
    rows = len(labels)
    group = 1 if stacked else len(names)
    bar_h = 16
    row_h = bar_h * group + 6
    top = 24 + (18 if len(names) > 1 else 0)
    height = top + rows * row_h + 8
    totals = [sum(series[n][i] for n in names) if stacked else max(series[n][i] for n in names)
              for i in range(rows)]
    scale = (WIDTH - LABEL_W - 90) / (max(totals) or 1)
    out = [_open(chart_id, "bars", title, height)]
    if len(names) > 1:
        out.append(_legend(names, 22))
    for i, label in enumerate(labels):
        y = top + i * row_h
        out.append(f'<text x="{LABEL_W - 6}" y="{y + bar_h * group / 2 + 4}" text-anchor="end">'
                   f'{esc(str(label)[:40])}</text>')
        x = LABEL_W
        for j, name in enumerate(names):
            value = series[name][i] or 0
            w = value * scale
            by = y if stacked else y + j * bar_h
            bx = x if stacked else LABEL_W
            out.append(f'<rect class="bar" x="{bx:.1f}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{COLORS[j % len(COLORS)]}"><title>{esc(label)} / {esc(name)}: {esc(fmt(value))}'
                       f'</title></rect>')
            if stacked:
                x += w
            else:
                out.append(f'<text x="{bx + w + 4:.1f}" y="{by + bar_h - 4}">{esc(fmt(value))}</text>')
        if stacked:
            out.append(f'<text x="{x + 4:.1f}" y="{y + bar_h - 4}">{esc(fmt(totals[i]))}</text>')
    out.append("</svg>")
    return "".join(out)


def _log_axis(log: bool, lo: float, hi: float) -> bool:
    return log and lo >= 0 and hi / max(lo, 1) > 50


def _unit_bins(values: list[float], lo: float, hi: float, n_bins: int) -> bool:
    return hi - lo < n_bins and all(float(v).is_integer() for v in (lo, hi, *values))


def bins_for(values: list[float], n_bins: int = 20, log: bool = False, lo: float | None = None,
             hi: float | None = None) -> list[float]:
    """Bin edges over [lo, hi] (default: the values' range): log-spaced for wide positive ranges when asked,
    unit-wide for a few integers, else linear."""
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    if _log_axis(log, lo, hi):
        a, b = math.log10(max(lo, 1)), math.log10(hi)
        return [10 ** (a + (b - a) * k / n_bins) for k in range(n_bins + 1)]
    if _unit_bins(values, lo, hi, n_bins):
        return [lo + k for k in range(int(hi - lo) + 2)]
    if hi == lo:  # one value: a single bar in the middle
        lo, hi = lo - 0.5, hi + 0.5
    return [lo + (hi - lo) * k / n_bins for k in range(n_bins + 1)]


def _axis(values: list[float], limits: list, log: bool, domain: tuple | None) -> tuple[float, float, list, list]:
    """The plotted range and which limits fall on it: a limit so far off that the data would shrink below a
    quarter of the axis is left off the chart (and named under it) instead of stretching the axis."""
    lo, hi = min(values), max(values)
    if domain:
        lo, hi = min(lo, domain[0]), max(hi, domain[1])
    scale = (lambda v: math.log10(max(v, 1))) if _log_axis(log, lo, hi) else (lambda v: v)
    shown, off = [], []
    for limit in limits:
        new_lo, new_hi = min(lo, limit.value), max(hi, limit.value)
        span, new_span = scale(hi) - scale(lo), scale(new_hi) - scale(new_lo)
        if new_span == span or (span > 0 and span >= 0.25 * new_span):
            shown.append(limit)
            lo, hi = new_lo, new_hi
        else:
            off.append(limit)
    return lo, hi, shown, off


def _x_of(value: float, edges: list[float], log: bool) -> float:
    """Position of a value along the bins, in bins (0 = left edge)."""
    k = min(max(bisect.bisect_right(edges, value) - 1, 0), len(edges) - 2)
    a, b = edges[k], edges[k + 1]
    if log and a > 0 and value > 0:
        a, b, value = math.log10(a), math.log10(b), math.log10(value)
    return k + min(max((value - a) / (b - a), 0.0), 1.0) if b > a else k


def histogram(chart_id: str, title: str, series: dict[str, list[float]], n_bins: int = 20, log: bool = False,
              x_label: str = "", limits: list = (), domain: tuple | None = None, grouped: bool = False) -> str:
    """Histogram of one or more value lists over shared bins: stacked (parts of one population) or
    grouped side by side (two runs). `limits` (objects with rule, value, direction, describe()) are
    drawn as dashed red lines where the stage cuts."""
    names = [n for n in series if series[n]]
    values = [v for n in names for v in series[n]]
    lo, hi, shown, off = _axis(values, list(limits), log, domain)
    edges = bins_for(values, n_bins, log, lo, hi)
    logged, unit = _log_axis(log, lo, hi), not _log_axis(log, lo, hi) and _unit_bins(values, lo, hi, n_bins)
    n_bins = len(edges) - 1
    counts = {n: [0] * n_bins for n in names}
    for n in names:
        for v in series[n]:
            counts[n][min(max(bisect.bisect_right(edges, v) - 1, 0), n_bins - 1)] += 1
    if logged:
        x_label = f"{x_label} (log-spaced bins)"
    top, plot_h, left = 24 + (18 if len(names) > 1 else 0), 160, 50
    height = top + plot_h + 40 + (16 if off else 0)
    plot_w = WIDTH - left - 20
    bar_w = plot_w / n_bins
    tallest = (lambda k: max(counts[n][k] for n in names)) if grouped else \
        (lambda k: sum(counts[n][k] for n in names))
    peak = max(tallest(k) for k in range(n_bins)) or 1
    out = [_open(chart_id, "histogram", title, height)]
    if len(names) > 1:
        out.append(_legend(names, 22))
    base = top + plot_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#999"/>'
               f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{peak}</text>'
               f'<text x="{left - 4}" y="{base}" text-anchor="end">0</text>')
    width = (bar_w - 2) / (len(names) if grouped else 1)
    for k in range(n_bins):
        y = base
        for j, n in enumerate(names):
            c = counts[n][k]
            if not c:
                continue
            h = c / peak * plot_h
            x = left + k * bar_w + 1 + (j * width if grouped else 0)
            y = base - h if grouped else y - h
            out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                       f'height="{h:.1f}" fill="{COLORS[j % len(COLORS)]}"><title>{esc(n)} '
                       f'[{esc(number(edges[k]))}, {esc(number(edges[k + 1]))}): {c}</title></rect>')
    for k in range(0, n_bins + 1, max(1, n_bins // 5)):
        out.append(f'<text x="{left + k * bar_w:.1f}" y="{base + 14}" text-anchor="middle">'
                   f'{esc(number(edges[k]))}</text>')
    for i, limit in enumerate(shown):
        # integer bins hold one value each: a max limit cuts after its own bin
        at = limit.value + 1 if unit and limit.direction == "max" else limit.value
        x = left + _x_of(at, edges, logged) * bar_w
        anchor = "end" if x > left + plot_w * 0.7 else "start"
        dx = -3 if anchor == "end" else 3
        label, y = limit.describe(), top + 10 + 13 * i
        w = 6.3 * len(label)  # a backing so the label stays readable over the bars
        out.append(f'<line class="threshold" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{base}" stroke="{LIMIT}" '
                   f'stroke-width="2" stroke-dasharray="5,3"><title>{esc(label)}</title></line>'
                   f'<rect x="{x + dx - (w if anchor == "end" else 0):.1f}" y="{y - 10}" width="{w:.1f}" height="13" '
                   f'fill="#fff" fill-opacity="0.85"/>'
                   f'<text x="{x + dx:.1f}" y="{y}" text-anchor="{anchor}" fill="{LIMIT}">{esc(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{base + 32}" text-anchor="middle">{esc(x_label)}</text>')
    if off:
        out.append(f'<text x="{left}" y="{base + 48}" fill="{LIMIT}">off the axis: '
                   f'{esc(", ".join(limit.describe() for limit in off))}</text>')
    out.append("</svg>")
    return "".join(out)
