"""Saying the indicators to people: formatted figures beside their definitions, the comparison with
the period before, a one-sentence reading of each chart, and the charts themselves (SVG drawn on
the server by pygal, embedded as data: images so pages need no JavaScript and no second request).

The statistics page, the municipality report (HTML, PDF, CSV) and the public page all use this one
module, so they always show the same figures."""

import base64
import functools
import re
from dataclasses import dataclass
from datetime import date

import pygal
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pygal.style import Style

from timebank.i18n import format_minutes, remembered
from timebank.stats.indicators import BUCKET_LABELS, DEFINITIONS, LABELS, Statistics

MINUTES = {
    "minutes_exchanged",
    "fund_inflow",
    "fund_outflow",
    "fund_donations",
    "fund_levy",
    "fund_grants",
    "fund_balance",
    "gift_minutes",
    "assisted_minutes",
}
RATES = {"participation_rate", "reciprocity_rate", "requests_met_rate"}
DECIMALS = {"partners_per_active_member", "velocity", "turnover_gini"}
DAYS = {"median_days_to_accept"}

HEADLINES = (
    "minutes_exchanged",
    "exchanges_completed",
    "active_members",
    "participation_rate",
    "new_members",
    "distinct_pairs",
)
# Every single-number indicator, in the order the pages and the report list them, by theme.
SECTIONS = (
    (_l("Exchanges"), ("minutes_exchanged", "exchanges_completed", "gifts", "gift_minutes")),
    (
        _l("Members taking part"),
        ("members_total", "new_members", "active_members", "participation_rate", "dormant_members"),
    ),
    (
        _l("Contacts between neighbours"),
        ("distinct_pairs", "partners_per_active_member", "reciprocity_rate", "turnover_gini"),
    ),
    (_l("Hours and balances"), ("velocity", "members_at_floor", "members_at_ceiling")),
    (
        _l("Community fund"),
        ("fund_inflow", "fund_donations", "fund_levy", "fund_outflow", "fund_grants", "fund_balance"),
    ),
    (_l("Requests for help"), ("requests_posted", "requests_met", "requests_met_rate", "median_days_to_accept")),
    (_l("Reaching people"), ("group_activities", "group_people_reached", "assisted_minutes")),
)
INDICATORS = tuple(key for _title, keys in SECTIONS for key in keys)


def say(key: str, value) -> str:
    """One figure as a page shows it: hours and minutes, a percentage, a decimal, a count."""
    if value is None:
        return "–"
    if key in MINUTES:
        return format_minutes(value)
    if key in RATES:
        return format_percent(value, "#,##0 %")
    if key in DECIMALS:
        return format_decimal(value, "#,##0.00")
    if key in DAYS:
        return _("%(num)s days", num=format_decimal(value, "#,##0.0"))
    return format_decimal(value, "#,##0")


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    value: object
    shown: str
    before: str | None
    change: str | None  # "up", "down", "same" or None (nothing to compare)
    definition: str


def _change(now, before) -> str | None:
    if now is None or before is None:
        return None
    return "up" if now > before else "down" if now < before else "same"


def lines(stats: Statistics, earlier: Statistics | None = None, keys=INDICATORS) -> list[Line]:
    found = []
    for key in keys:
        now = getattr(stats, key)
        before = getattr(earlier, key) if earlier is not None else None
        found.append(
            Line(
                key,
                str(LABELS[key]),
                now,
                say(key, now),
                say(key, before) if earlier is not None else None,
                _change(now, before) if earlier is not None else None,
                str(DEFINITIONS[key]),
            )
        )
    return found


def sections(stats: Statistics, earlier: Statistics | None = None) -> list[tuple[str, list[Line]]]:
    return [(str(title), lines(stats, earlier, keys)) for title, keys in SECTIONS]


_MONTH_NAMES: dict[tuple, str] = {}


def month_name(month: str) -> str:
    """'Dec 2026' for '2026-12'; a member's account page names twelve months on every view."""
    year, number = (int(part) for part in month.split("-"))
    return remembered(
        _MONTH_NAMES, (str(get_locale()), year, number), lambda: format_date(date(year, number, 1), "MMM yyyy")
    )


def say_period(start: date, end: date) -> str:
    return _("%(start)s to %(end)s", start=format_date(start, "d MMMM yyyy"), end=format_date(end, "d MMMM yyyy"))


# Readings: one sentence in plain words per chart ----------------------------------------------------


def participation_reading(stats: Statistics, earlier: Statistics | None) -> str:
    if not stats.members_total:
        return _("The neighbourhood has no members yet.")
    now = round((stats.participation_rate or 0) * 10)
    if earlier is None or earlier.participation_rate is None:
        return _("%(num)d in 10 members took part in this period.", num=now)
    before = round(earlier.participation_rate * 10)
    if now > before:
        return _("%(num)d in 10 members took part in this period, up from %(before)d in 10.", num=now, before=before)
    if now < before:
        return _("%(num)d in 10 members took part in this period, down from %(before)d in 10.", num=now, before=before)
    return _("%(num)d in 10 members took part in this period, as many as in the period before.", num=now)


def months_reading(stats: Statistics) -> str:
    if not stats.minutes_exchanged:
        return _("No hours were exchanged in this period.")
    busiest = max(stats.by_month, key=lambda m: m.minutes)
    if len(stats.by_month) == 1:
        return _(
            "%(hours)s were exchanged in %(num)d exchanges.",
            hours=format_minutes(stats.minutes_exchanged),
            num=stats.exchanges_completed,
        )
    return _(
        "%(hours)s were exchanged in all; the busiest month was %(month)s, with %(best)s.",
        hours=format_minutes(stats.minutes_exchanged),
        month=month_name(busiest.month),
        best=format_minutes(busiest.minutes),
    )


def categories_reading(stats: Statistics) -> str:
    if not stats.by_category or not stats.minutes_exchanged:
        return _("No exchanges in this period, so no kinds of help to compare.")
    top = stats.by_category[0]
    return _(
        "Most hours went to %(category)s: %(share)s of all hours exchanged.",
        category=top.name,
        share=format_percent(top.minutes / stats.minutes_exchanged, "#,##0 %"),
    )


def balances_reading(stats: Statistics) -> str:
    owe = sum(b.members for b in stats.balance_histogram if b.high is not None and b.high < 0)
    have = sum(b.members for b in stats.balance_histogram if b.low is not None and b.low > 0)
    zero = stats.members_total - owe - have
    return _(
        "At the end of the period %(owe)d members owed hours, %(zero)d were at zero and %(have)d had hours saved.",
        owe=owe,
        zero=zero,
        have=have,
    )


# Charts ------------------------------------------------------------------------------------------

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2530",
    foreground_strong="#1d2530",
    foreground_subtle="#d6d2c6",
    opacity="1",
    opacity_hover="1",
    colors=("#0b6e4f", "#b3541e", "#1f5fbf"),
    font_family='system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    value_label_font_size=13,
    title_font_size=16,
    tooltip_font_size=13,
    legend_font_size=13,
    no_data_font_size=16,
)
_SCRIPT = re.compile(r"<script.*?</script>", re.S)


def _draw(kind, labels: list[str], title: str, values: list, **options) -> str:
    """A data: URI of the chart's SVG, without pygal's scripts (an <img> runs none anyway)."""
    settings = dict(
        js=(),
        disable_xml_declaration=True,
        show_legend=False,
        width=720,
        height=360,
        margin=16,
        print_values=False,
        no_data_text=_("Nothing in this period"),
    )
    return _drawn(kind, tuple({**settings, **options}.items()), tuple(labels), title, tuple(values))


@functools.lru_cache(maxsize=64)
def _drawn(kind, options: tuple, labels: tuple, title: str, values: tuple) -> str:
    """Kept by everything it shows (figures, words, size), so it is never out of date: pygal takes
    about 8 ms a chart, and the same figures are drawn for every coordinator who opens the page
    until an exchange changes them."""
    chart = kind(style=STYLE, **dict(options))
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def months_chart(stats: Statistics) -> str:
    return _draw(
        pygal.Bar,
        [month_name(m.month) for m in stats.by_month],
        _("Hours exchanged"),
        [round(m.minutes / 60, 1) for m in stats.by_month],
        y_title=_("Hours"),
        x_label_rotation=0 if len(stats.by_month) <= 6 else 45,
    )


def categories_chart(stats: Statistics) -> str:
    shown = stats.by_category[:8]
    return _draw(
        pygal.HorizontalBar,
        [c.name for c in shown],
        _("Hours exchanged"),
        [round(c.minutes / 60, 1) for c in shown],
        x_title=_("Hours"),
        height=max(200, 60 + 40 * len(shown)),
    )


def balances_chart(stats: Statistics) -> str:
    return _draw(
        pygal.Bar,
        [str(BUCKET_LABELS[b.key]) for b in stats.balance_histogram],
        _("Members"),
        [b.members for b in stats.balance_histogram],
        y_title=_("Members"),
        x_label_rotation=30,
    )
