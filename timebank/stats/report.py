"""The municipality report: every indicator of one community over one period with its definition,
as printable HTML, PDF (WeasyPrint) and CSV. Aggregates only: no member's name is ever in it
(category names are the only names, and they are the community's own words)."""

import csv
import io
from collections.abc import Callable
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Community
from timebank.i18n import format_minutes
from timebank.spreadsheets import safe_cell
from timebank.stats import present
from timebank.stats.indicators import BUCKET_LABELS, DEFINITIONS, LABELS, compute, previous
from timebank.stats.trade import DEFINITIONS as TRADE_DEFINITIONS
from timebank.stats.trade import trade_of

FORMATS = ("html", "pdf", "csv")
AUDIT_LABELS = {
    "stats.public_changed": _l("made the neighbourhood's figures public, or private again"),
    "stats.report_downloaded": _l("downloaded the municipality report"),
    "stats.umbrella_report_downloaded": _l("downloaded the municipality report of several neighbourhoods"),
}


def context(community: Community, start, end, locale: str) -> dict:
    """What the report and the statistics page show: the figures now and in the period before."""
    stats = compute(community, start, end, locale=locale)
    earlier = compute(community, *previous(start, end), locale=locale, breakdowns=False)
    return dict(
        community=community,
        stats=stats,
        earlier=earlier,
        start=start,
        end=end,
        period=present.say_period(start, end),
        earlier_period=present.say_period(*previous(start, end)),
        sections=present.sections(stats, earlier),
        headlines=present.lines(stats, earlier, present.HEADLINES),
        readings=dict(
            participation=present.participation_reading(stats, earlier),
            months=present.months_reading(stats),
            categories=present.categories_reading(stats),
            balances=present.balances_reading(stats),
        ),
        charts=dict(
            months=present.months_chart(stats),
            categories=present.categories_chart(stats),
            balances=present.balances_chart(stats),
        ),
        definitions={key: str(value) for key, value in DEFINITIONS.items()},
        labels={key: str(value) for key, value in LABELS.items()},
        bucket_labels={key: str(value) for key, value in BUCKET_LABELS.items()},
        month_name=present.month_name,
        say=present.say,
        trade=trade_of(community, start, end),
    )


def render(
    community: Community, start, end, fmt: str, locale: str, progress: Callable[[str], None] = lambda _: None
) -> bytes:
    """The report in `fmt` (html, pdf or csv) and `locale`; `progress` hears each step (a PDF takes
    seconds)."""
    with force_locale(locale):
        progress("computing the figures")
        if fmt == "csv":
            return ("\ufeff" + _csv(community, start, end, locale)).encode()
        html = render_template(
            "stats/report.html", for_pdf=fmt == "pdf", lang=locale, **context(community, start, end, locale)
        )
        if fmt == "html":
            return html.encode()
        progress("drawing the PDF")
        return _pdf(html)


def _pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    stylesheet = Path(current_app.static_folder) / "css" / "report.css"
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(stylesheet))])


def _csv(community: Community, start, end, locale: str) -> str:
    stats = compute(community, start, end, locale=locale)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Community"), safe_cell(community.name)])
    writer.writerow([_("Period"), start.isoformat(), end.isoformat()])
    writer.writerow([])
    writer.writerow(["indicator", _("Figure"), _("Value"), _("As shown"), _("What it means")])
    for line in present.lines(stats):
        value = line.value if line.value is None or isinstance(line.value, int) else round(line.value, 4)
        writer.writerow([line.key, line.label, safe_cell(value), line.shown, line.definition])
    for bucket in stats.balance_histogram:
        writer.writerow(
            [
                f"balance_histogram.{bucket.key}",
                str(BUCKET_LABELS[bucket.key]),
                bucket.members,
                present.say("members_total", bucket.members),
                str(DEFINITIONS["balance_histogram"]),
            ]
        )
    for figure in stats.by_category:
        key = figure.category_id if figure.category_id is not None else "none"
        for name, value, shown in (
            ("minutes", figure.minutes, present.say("minutes_exchanged", figure.minutes)),
            ("exchanges", figure.exchanges, present.say("exchanges_completed", figure.exchanges)),
        ):
            writer.writerow(
                [f"by_category.{key}.{name}", safe_cell(figure.name), value, shown, str(DEFINITIONS["by_category"])]
            )
    for trade in trade_of(community, start, end):
        other = {"other": trade.peer_name}
        for name, value, definition in (
            ("exported", trade.exported, TRADE_DEFINITIONS["exported"] % other),
            ("imported", trade.imported, TRADE_DEFINITIONS["imported"] % other),
            ("balance", trade.balance, TRADE_DEFINITIONS["balance_signed"] % other),
            ("cap", trade.cap, TRADE_DEFINITIONS["cap"]),
        ):
            writer.writerow(
                [
                    f"trade.{trade.peer_id}.{name}",
                    safe_cell(trade.peer_name),
                    value,
                    format_minutes(value),
                    safe_cell(str(definition)),
                ]
            )
    for month in stats.by_month:
        for name in ("minutes", "exchanges", "active_members", "new_members"):
            value = getattr(month, name)
            shown = present.say("minutes_exchanged" if name == "minutes" else "exchanges_completed", value)
            writer.writerow(
                [
                    f"by_month.{month.month}.{name}",
                    present.month_name(month.month),
                    value,
                    shown,
                    str(DEFINITIONS["by_month"]),
                ]
            )
    return out.getvalue()
