"""An email-safe participation chart: response rate per week as table-cell bars.

No images and no CSS that mail clients drop: each bar is a table cell with a percentage width
and a background colour, and every bar carries its number as text, so the chart reads the same
with styles off, in a screen reader, and in the plain-text part.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from digests.data import WeekRate, format_rate

BAR = "#1d5b8f"  # 7.4:1 against white
TRACK = "#e6edf3"
TEXT = "#1b1b1b"


def participation_chart(history: Sequence[WeekRate]) -> Markup:
    """An HTML table with one row per week: label, bar, and "answered of asked (rate)"."""
    rows: list[str] = []
    for index, week in enumerate(history):
        rate = week.rate
        percent = 0 if rate is None else max(0, min(100, round(rate * 100)))
        current = index == len(history) - 1
        label = escape(week.label.split("-")[-1]) + (Markup(" (this digest)") if current else "")
        cell = "height:14px;font-size:1px;line-height:1px;"
        if percent == 0:
            bar = f'<td style="background:{TRACK};{cell}">&nbsp;</td>'
        elif percent == 100:
            bar = f'<td style="background:{BAR};{cell}">&nbsp;</td>'
        else:
            bar = (
                f'<td width="{percent}%" style="width:{percent}%;background:{BAR};{cell}">'
                f'&nbsp;</td><td style="background:{TRACK};{cell}">&nbsp;</td>'
            )
        figure = (
            "no prompts"
            if not week.asked
            else f"{week.answered} of {week.asked} ({format_rate(rate)})"
        )
        weight = "bold" if current else "normal"
        rows.append(
            "<tr>"
            f'<td class="chart-label" style="padding:3px 8px 3px 0;white-space:nowrap;'
            f'font-weight:{weight};color:{TEXT};font-size:13px;" width="1%">{label}</td>'
            '<td style="padding:3px 0;">'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            f'border="0"><tr>{bar}</tr></table></td>'
            f'<td class="chart-figure" style="padding:3px 0 3px 8px;white-space:nowrap;'
            f'color:{TEXT};font-size:13px;font-weight:{weight};" width="1%">{escape(figure)}</td>'
            "</tr>"
        )
    summary = "; ".join(
        f"{w.label}: {format_rate(w.rate)}" if w.asked else f"{w.label}: no prompts"
        for w in history
    )
    return Markup(
        '<table class="chart" role="table" width="100%" cellpadding="0" cellspacing="0" '
        f'border="0" aria-label="{escape("Response rate by week — " + summary)}">'
        f'<caption style="text-align:left;font-size:13px;color:{TEXT};padding-bottom:4px;">'
        "Response rate by week (answered of asked)</caption>" + "".join(rows) + "</table>"
    )


def participation_text(history: Sequence[WeekRate], width: int = 20) -> list[str]:
    """The same chart for the plain-text part: ``W08  ##########----------  5 of 10 (50%)``."""
    lines = []
    for week in history:
        rate = week.rate or 0.0
        filled = round(rate * width)
        figure = (
            "no prompts"
            if not week.asked
            else f"{week.answered} of {week.asked} ({format_rate(week.rate)})"
        )
        lines.append(
            f"{week.label.split('-')[-1]}  {'#' * filled}{'-' * (width - filled)}  {figure}"
        )
    return lines
