"""The operators' screen of the stations' backups the hub keeps (``/fleet/backups``): per
station, each sealed backup it sent, when it arrived, its size and its SHA-256. The hub
cannot read them (the backup key stays at the shop); an admin downloads one to restore
a station with ``locker db restore --from-copy FILE --backup-key …``, and the download is
in the hub's audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlmodel import col, select

from fleet import grants, station_backups
from fleet.hub import Hub
from fleet.screens.pages import ScreenRole, render
from fleet.tables import Operator, Station, StationBackup

AsOperator = Annotated[Operator, Depends(ScreenRole("operator"))]
AsAdmin = Annotated[Operator, Depends(ScreenRole("admin"))]


@dataclass
class StationBackups:
    """One station's row of the page: its kept backups, newest first."""

    station: str
    backups: list[station_backups.BackupOut] = field(default_factory=list)


def held(hub: Hub) -> list[StationBackups]:
    """Every station (one without a backup too: the page says so), with its backups."""
    with hub.db.transaction() as session:
        names = session.exec(select(Station.name).order_by(col(Station.name))).all()
        rows = session.exec(
            select(StationBackup)
            .where(col(StationBackup.complete))
            .order_by(col(StationBackup.station), col(StationBackup.completed_at).desc())
        ).all()
        by_station = {name: StationBackups(name) for name in names}
        for row in rows:
            by_station[row.station].backups.append(station_backups.out(row))
    return list(by_station.values())


def size_text(size: int) -> str:
    """Bytes as people read them: 1 decimal from KiB up."""
    amount = float(size)
    for unit in ("B", "KiB", "MiB"):
        if amount < 1024 or unit == "MiB":
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def add_backup_screens(screens: FastAPI, hub: Hub) -> None:
    """Add ``/backups`` (every operator) and a backup's download (admins) to the screens."""

    @screens.get("/backups", response_class=HTMLResponse)
    def backups_page(request: Request, who: AsOperator) -> HTMLResponse:
        return render(
            request,
            "fleet_backups.html",
            who=who,
            section="backups",
            stations=held(hub),
            size_text=size_text,
        )

    @screens.get("/stations/{name}/backups/{backup_id}")
    def backup_download(name: str, backup_id: str, who: AsAdmin) -> StreamingResponse:
        answer = station_backups.download(hub, name, backup_id)  # NotFound before the audit
        with hub.db.transaction() as session:
            grants.audit(session, hub.clock(), who.name, "backup.downloaded", name, backup_id)
        return answer
