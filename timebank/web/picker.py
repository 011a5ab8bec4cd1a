"""Choosing members without JavaScript: a search by name, then "choose" links that keep the rest of
the address. A neighbourhood has thousands of members, many with alike names: a select of them all
would be a page of hundreds of kilobytes on a cheap phone. Each member shows their part of the
neighbourhood; two of the same name in the same part also show the day they joined and a link to
their profile, so hours go to the neighbour one means."""

from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import aliased

from timebank.db import db_int
from timebank.extensions import db
from timebank.members.models import Member
from timebank.members.services import directory


@dataclass
class Picker:
    slot: str
    chosen: list[Member]
    query: str
    results: list[Member]
    multiple: bool
    path: str  # the page the search and the choose links lead to
    namesakes: frozenset[int]  # shown members another active member shares name and area with

    def url(self, ids: list[int]) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in (self.slot, f"q_{self.slot}")]
        args += [(self.slot, i) for i in ids]
        return f"{self.path}?{urlencode(args)}"

    def add(self, member: Member) -> str:
        ids = [m.id for m in self.chosen] if self.multiple else []
        return self.url([*ids, member.id])

    def remove(self, member: Member) -> str:
        return self.url([m.id for m in self.chosen if m.id != member.id])

    def kept_args(self) -> list[tuple[str, str]]:
        """The other choices, as hidden fields of this picker's search form."""
        return [(k, v) for k, v in request.args.items(multi=True) if k not in (f"q_{self.slot}",)]


def picker(
    slot: str, community_id: int, *, multiple: bool = False, exclude: tuple[int, ...] = (), path: str | None = None
) -> Picker:
    """The members chosen in `slot` of the address (active, of the community) and, while a name is
    searched for (`q_<slot>`), the first matches. `path` is the page to come back to when the
    request is a form's POST to another address (default: this one)."""
    ids = [i for i in request.values.getlist(slot, type=db_int)]
    chosen = (
        list(
            db.session.scalars(
                sa.select(Member).where(
                    Member.id.in_(ids), Member.community_id == community_id, Member.status == "active"
                )
            )
        )
        if ids
        else []
    )
    chosen.sort(key=lambda m: ids.index(m.id))
    if not multiple:
        chosen = chosen[-1:]
    query = (request.args.get(f"q_{slot}") or "").strip()[:80]
    results = []
    if query:
        skip = {*exclude, *(m.id for m in chosen)}
        results = [m for m in db.session.scalars(directory(community_id, query=query).limit(20)) if m.id not in skip]
    results = results[:12]
    return Picker(
        slot=slot,
        chosen=chosen,
        query=query,
        results=results,
        multiple=multiple,
        path=path or request.path,
        namesakes=namesakes(community_id, [*chosen, *results]),
    )


def namesakes(community_id: int, shown: list[Member]) -> frozenset[int]:
    """Those of `shown` with the name (as the database folds its case) and part of the
    neighbourhood of another active member of the community, found or not."""
    if not shown:
        return frozenset()
    other = aliased(Member)
    alike = sa.exists().where(
        other.community_id == community_id,
        other.status == "active",
        sa.func.lower(other.name) == sa.func.lower(Member.name),
        other.area_id.is_not_distinct_from(Member.area_id),
        other.id != Member.id,
    )
    return frozenset(db.session.scalars(sa.select(Member.id).where(Member.id.in_([m.id for m in shown]), alike)))
