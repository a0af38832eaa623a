"""Each cold group as the screens show it: its band, where it stands, its newest reading and
its last day (plain values; no row leaves ``locker``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from locker.cold.band import ColdStatus
from locker.cold.groups import ColdGroup
from locker.cold.history import Minute, last_day
from locker.cold.tables import ColdGroupState
from locker.layout import Layout


@dataclass(frozen=True)
class ColdView:
    group: ColdGroup
    compartments: tuple[int, ...]
    status: ColdStatus
    since: datetime | None  # in that status since
    last_c: float | None  # the newest reading (None: the last read had no answer)
    last_answer_at: datetime | None
    day: tuple[Minute, ...]

    @property
    def takes_parcels(self) -> bool:
        return self.status.takes_parcels


def cold_views(session: Session, layout: Layout, now: datetime) -> list[ColdView]:
    states = {row.group: row for row in session.exec(select(ColdGroupState)).all()}
    views = []
    for group in layout.cold_groups:
        row = states.get(group.id)
        views.append(
            ColdView(
                group=group,
                compartments=tuple(int(c.id) for c in layout.in_group(group.id)),
                status=ColdStatus(row.status) if row else ColdStatus.UNKNOWN,
                since=row.since if row else None,
                last_c=row.last_c if row else None,
                last_answer_at=row.last_at if row else None,
                day=tuple(last_day(session, group.id, now)),
            )
        )
    return views
