"""The umbrella's page and its municipality report (HTML, PDF, CSV): every chosen neighbourhood's
figures side by side, the umbrella's total beside them with what it means, the exchanges between
the neighbourhoods and each link's trade. Aggregates only: no member's name is ever in it."""

import csv
import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.spreadsheets import safe_cell
from timebank.stats import present
from timebank.stats.indicators import DEFINITIONS, LABELS
from timebank.stats.report import _pdf
from timebank.stats.umbrella import CROSSING_DEFINITIONS, TOTAL_DEFINITIONS, umbrella


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    definition: str
    each: list[str]
    total: str
    total_definition: str


def chosen_communities(ids: list[int]) -> list[Community]:
    """The communities asked for (all of them when none or none known), by name."""
    query = sa.select(Community).order_by(Community.name, Community.id)
    chosen = db.session.scalars(query.where(Community.id.in_(ids))).all() if ids else []
    return list(chosen) or list(db.session.scalars(query))


def context(communities: list[Community], start, end, locale: str) -> dict:
    found = umbrella(communities, start, end, locale=locale)
    sections = [
        (
            str(title),
            [
                Row(
                    key,
                    str(LABELS[key]),
                    str(DEFINITIONS[key]),
                    [present.say(key, getattr(stats, key)) for stats in found.each],
                    present.say(key, found.total[key]),
                    str(TOTAL_DEFINITIONS[key]),
                )
                for key in keys
            ],
        )
        for title, keys in present.SECTIONS
    ]
    return dict(
        umbrella=found,
        communities=communities,
        sections=sections,
        start=start,
        end=end,
        period=present.say_period(start, end),
        crossing_definitions={key: str(value) for key, value in CROSSING_DEFINITIONS.items()},
        month_name=present.month_name,
        months_chart=present.months_chart(found),
        say=present.say,
    )


def render(communities: list[Community], start, end, fmt: str, locale: str) -> bytes:
    with force_locale(locale):
        if fmt == "csv":
            return ("\ufeff" + _csv(communities, start, end, locale)).encode()
        html = render_template(
            "stats/umbrella_report.html", for_pdf=fmt == "pdf", lang=locale, **context(communities, start, end, locale)
        )
        return html.encode() if fmt == "html" else _pdf(html)


def _csv(communities: list[Community], start, end, locale: str) -> str:
    found = context(communities, start, end, locale)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Period"), start.isoformat(), end.isoformat()])
    writer.writerow([])
    writer.writerow(
        ["indicator", _("Figure"), *(safe_cell(c.name) for c in communities), _("Together"), _("What it means")]
    )
    for _title, rows in found["sections"]:
        for row in rows:
            writer.writerow([row.key, row.label, *row.each, row.total, row.total_definition])
    crossing = found["umbrella"].crossing
    for key, value in (
        ("exchanges", crossing.exchanges),
        ("minutes", format_minutes(crossing.minutes)),
        ("pairs", crossing.pairs),
    ):
        writer.writerow([f"between.{key}", "", *([""] * len(communities)), value, found["crossing_definitions"][key]])
    return out.getvalue()
