"""Inline SVG charts for /dashboard, drawn on the server: no script and no CDN needed to see them.

Every mark carries its data (``data-label``, ``data-value``, a ``<title>`` tooltip), so a reader,
a screen reader and a test all see the same numbers. Colours come from CSS classes
(``tone-ok`` …) in the page's own stylesheet; no inline style, so the page's CSP can forbid it.
"""

from __future__ import annotations

from html import escape

from gateway.services.dashboard import Bar, Panel, Series

WIDTH = 520
BAR_HEIGHT = 22
LABEL_WIDTH = 170
LINE_HEIGHT = 180


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        seconds = int(value)
        if seconds >= 86_400:
            return f"{seconds // 86_400}d {seconds % 86_400 // 3600}h"
        if seconds >= 3600:
            return f"{seconds // 3600}h {seconds % 3600 // 60}m"
        if seconds >= 60:
            return f"{seconds // 60}m {seconds % 60}s"
        return f"{seconds}s"
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.2f} ms"
    return f"{value:,.0f}"


def bar_chart(panel: Panel, bars: tuple[Bar, ...]) -> str:
    """Horizontal bars, one per label; a limit (an SLA) is a tick across its bar."""
    top = max([b.value for b in bars] + [b.limit or 0 for b in bars] + [1e-9])
    span = WIDTH - LABEL_WIDTH - 90
    height = len(bars) * (BAR_HEIGHT + 8) + 8
    parts = [f'<svg class="chart bars" data-panel="{escape(panel.key)}" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(panel.title)}">']
    for i, bar in enumerate(bars):
        y = 8 + i * (BAR_HEIGHT + 8)
        width = max(1.0, span * bar.value / top) if bar.value > 0 else 0.0
        shown = fmt(bar.value, panel.unit)
        limit = f" (SLA {fmt(bar.limit, panel.unit)})" if bar.limit is not None else ""
        parts.append(
            f'<g class="bar tone-{escape(bar.tone)}" data-label="{escape(bar.label)}" data-value="{bar.value:g}"'
            + (f' data-limit="{bar.limit:g}"' if bar.limit is not None else "") + ">"
            f"<title>{escape(bar.label)}: {escape(shown)}{escape(limit)}</title>"
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(_short(bar.label))}</text>'
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y}" width="{span}" height="{BAR_HEIGHT}" rx="3"/>'
            f'<rect class="fill" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" rx="3"/>'
        )
        if bar.limit is not None:
            x = LABEL_WIDTH + span * bar.limit / top
            parts.append(f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 3}" y2="{y + BAR_HEIGHT + 3}"/>')
        parts.append(f'<text class="value" x="{LABEL_WIDTH + span + 6}" y="{y + 15}">{escape(shown)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(panel: Panel, series: tuple[Series, ...]) -> str:
    """One polyline per series over days, with a dot (and its numbers) at every point."""
    days = [day for day, _ in series[0].points] if series else []
    if not days:
        return ""
    top = max([v for s in series for _, v in s.points] + [1e-9])
    left, right, bottom, top_pad = 48, 12, 26, 10
    plot_w, plot_h = WIDTH - left - right, LINE_HEIGHT - bottom - top_pad
    step = plot_w / max(1, len(days) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + (i * step if len(days) > 1 else plot_w / 2), top_pad + plot_h * (1 - v / top)

    parts = [f'<svg class="chart lines" data-panel="{escape(panel.key)}" viewBox="0 0 {WIDTH} {LINE_HEIGHT}" '
             f'width="{WIDTH}" height="{LINE_HEIGHT}" role="img" aria-label="{escape(panel.title)}, by day">',
             f'<line class="axis" x1="{left}" x2="{WIDTH - right}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}"/>',
             f'<text class="tick" x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{escape(fmt(top, panel.unit))}</text>',
             f'<text class="tick" x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    for i, day in enumerate(days):
        if len(days) <= 8 or i % max(1, len(days) // 7) == 0 or i == len(days) - 1:
            x, _ = xy(i, 0)
            anchor = "end" if i == len(days) - 1 and len(days) > 1 else "middle"  # the last one stays inside
            parts.append(f'<text class="tick" x="{x:.1f}" y="{LINE_HEIGHT - 8}" text-anchor="{anchor}">{day[5:]}</text>')
    for n, s in enumerate(series):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(s.points)))
        parts.append(f'<g class="series series-{n}" data-series="{escape(s.name)}">'
                     f'<polyline class="line" points="{points}"/>')
        for i, (day, value) in enumerate(s.points):
            x, y = xy(i, value)
            parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3" data-day="{day}" '
                         f'data-value="{value:g}"><title>{escape(s.name)} {day}: '
                         f"{escape(fmt(value, panel.unit))}</title></circle>")
        parts.append("</g>")
    legend_x = left
    for n, s in enumerate(series):
        parts.append(f'<text class="legend series-{n}" x="{legend_x}" y="{top_pad + 2}">■ {escape(s.name)}</text>')
        legend_x += 14 + 8 * len(s.name) + 20
    parts.append("</svg>")
    return "".join(parts)


def render_panel(panel: Panel) -> str:
    head = (f'<section class="panel" id="panel-{escape(panel.key)}" data-panel="{escape(panel.key)}">'
            f"<h2>{escape(panel.title)}</h2>")
    if panel.empty is not None:
        return head + f'<p class="empty">{escape(panel.empty)}</p></section>'
    body = [f'<p class="summary">{escape(panel.summary)}</p>'] if panel.summary else []
    if panel.bars:
        body.append(bar_chart(panel, panel.bars))
    if panel.series:
        body.append(line_chart(panel, panel.series))
    return head + "".join(body) + "</section>"


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
