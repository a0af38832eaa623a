"""The stations' encrypted backups at the hub: a station sends its sealed backup
(``locker.store.offsite``) in chunks over HTTPS, authenticated as itself; the hub keeps the
newest ``FLEET_STATION_BACKUPS_KEEP`` per station, lists them for operators and lets an
admin download one. The hub never has the backup key: it stores bytes it cannot read.

A station signs in as it does at the broker: HTTP Basic with its broker user ``st-<name>``
and password, checked against the registry's hash of it (the hub keeps no password). The
station a backup belongs to is the one signed in, never a name in the request.

The station's routes (under ``/api/v1/station/``) are not in the operators' OpenAPI
document; they are:

- ``POST /api/v1/station/backups`` ``{"name", "size", "sha256"}``: a new upload (any upload of
  this station's not finished is dropped); answers its ``id`` and ``chunk_bytes``;
- ``PUT /api/v1/station/backup-chunk?backup=ID&index=N`` with the bytes (octet-stream): chunk
  ``N``, each ``chunk_bytes`` long but the last; sent again, it replaces itself;
- ``POST /api/v1/station/backups/{id}/complete``: the hub checks the size and the SHA-256
  of the chunks in order, keeps it, and deletes the oldest beyond the number kept.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fleet import broker
from fleet.errors import FleetError, NotAuthenticated, NotFound
from fleet.hub import Hub, HubDep
from fleet.tables import Station, StationBackup, StationBackupChunk

CHUNK_BYTES = 1 << 20  # what a station sends per request (the body limit of that route)
CHUNK_PATH = "/api/v1/station/backup-chunk"
BACKUP_NAME = re.compile(r"station-\d{8}T\d{6}Z[\w-]*\.db\.lpsbak")
_BASIC = HTTPBasic(auto_error=False)


class BackupRefused(FleetError):
    code = "backup_refused"
    status = 422


class NeedsStation:
    """The dependency of the station's own routes: its broker user and password."""

    role = "station"

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPBasicCredentials | None, Depends(_BASIC)],
    ) -> str:
        refused = NotAuthenticated(
            "A station's broker user and password are needed (HTTP Basic, st-<name>)."
        )
        if credentials is None or not credentials.username.startswith(broker.STATION_PREFIX):
            raise refused
        name = credentials.username.removeprefix(broker.STATION_PREFIX)
        hub: Hub = request.app.state.hub
        with hub.db.transaction() as session:
            row = session.get(Station, name)
            hashed = row.broker_password_hash if row is not None else None
        if hashed is None or not broker.check_password(credentials.password, hashed):
            raise refused
        return name


STATION = NeedsStation()
AsStation = Annotated[str, Depends(STATION)]


class BackupStart(BaseModel):
    name: str = Field(pattern=BACKUP_NAME.pattern, max_length=120)
    size: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class BackupStarted(BaseModel):
    id: str
    chunk_bytes: int


class BackupOut(BaseModel):
    id: str
    station: str
    name: str
    size: int
    sha256: str
    received_at: datetime | None


def _out(row: StationBackup) -> BackupOut:
    return BackupOut(
        id=row.id,
        station=row.station,
        name=row.name,
        size=row.size,
        sha256=row.sha256,
        received_at=row.completed_at,
    )


def station_router() -> APIRouter:
    """The station's routes (not in the OpenAPI document: no operator calls them)."""
    router = APIRouter(prefix="/api/v1/station", include_in_schema=False, tags=["station"])

    @router.post("/backups", status_code=201)
    def start(body: BackupStart, hub: HubDep, station: AsStation) -> BackupStarted:
        limit = int(hub.settings.station_backup_max_mb * 1024 * 1024)
        if body.size > limit:
            raise BackupRefused(f"A backup over {limit} bytes is not kept by this hub.")
        backup_id = uuid.uuid4().hex
        with hub.db.transaction() as session:
            session.execute(  # one upload at a time: one not finished is abandoned
                delete(StationBackup).where(
                    col(StationBackup.station) == station, col(StationBackup.complete).is_(False)
                )
            )
            session.add(
                StationBackup(
                    id=backup_id,
                    station=station,
                    name=body.name,
                    size=body.size,
                    sha256=body.sha256,
                    chunk_bytes=CHUNK_BYTES,
                    started_at=hub.clock(),
                )
            )
        return BackupStarted(id=backup_id, chunk_bytes=CHUNK_BYTES)

    @router.put("/backup-chunk", status_code=204)
    async def chunk(
        request: Request,
        hub: HubDep,
        station: AsStation,
        backup: Annotated[str, Query(max_length=32)],
        index: Annotated[int, Query(ge=0, le=1_000_000)],
    ) -> None:
        data = await request.body()
        with hub.db.transaction() as session:
            row = _upload(session, station, backup)
            last = -(-row.size // row.chunk_bytes) - 1
            expected = row.chunk_bytes if index < last else row.size - last * row.chunk_bytes
            if index > last or len(data) != expected:
                raise BackupRefused(
                    f"Chunk {index} of {last + 1} must have {max(expected, 0)} bytes, "
                    f"not {len(data)}."
                )
            statement = insert(StationBackupChunk).values(backup_id=backup, index=index, data=data)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["backup_id", "index"], set_={"data": statement.excluded.data}
                )
            )

    @router.post("/backups/{backup_id}/complete")
    def complete(backup_id: str, hub: HubDep, station: AsStation) -> BackupOut:
        with hub.db.transaction() as session:
            row = _upload(session, station, backup_id)
            digest = hashlib.sha256()
            count = size = 0
            pieces = session.execute(
                select(StationBackupChunk.data)
                .where(StationBackupChunk.backup_id == backup_id)
                .order_by(col(StationBackupChunk.index))
                .execution_options(yield_per=8)
            ).scalars()
            for piece in pieces:
                digest.update(piece)
                count += 1
                size += len(piece)
            if size != row.size or digest.hexdigest() != row.sha256:
                raise BackupRefused(
                    f"The backup is not whole: {count} chunks, {size} of {row.size} bytes, "
                    "or its SHA-256 differs. Send the missing chunks, or start again."
                )
            row.complete = True
            row.completed_at = hub.clock()
            session.add(row)
            session.flush()
            kept = session.exec(
                select(StationBackup.id)
                .where(StationBackup.station == station, col(StationBackup.complete))
                .order_by(col(StationBackup.completed_at).desc(), col(StationBackup.id))
                .limit(hub.settings.station_backups_keep)
            ).all()
            session.execute(
                delete(StationBackup).where(
                    col(StationBackup.station) == station,
                    col(StationBackup.complete),
                    col(StationBackup.id).not_in(kept),
                )
            )
            return _out(row)

    return router


def _upload(session: Session, station: str, backup_id: str) -> StationBackup:
    row = session.get(StationBackup, backup_id)
    if row is None or row.station != station or row.complete:
        raise NotFound("backup", backup_id)  # another station's is none of this one's
    return row


def list_backups(hub: Hub, station: str) -> list[BackupOut]:
    with hub.db.transaction() as session:
        if session.get(Station, station) is None:
            raise NotFound("station", station)
        rows = session.exec(
            select(StationBackup)
            .where(StationBackup.station == station, col(StationBackup.complete))
            .order_by(col(StationBackup.completed_at).desc())
        ).all()
        return [_out(r) for r in rows]


def download(hub: Hub, station: str, backup_id: str) -> StreamingResponse:
    """The sealed file as the station sent it, a chunk at a time."""
    with hub.db.transaction() as session:
        row = session.get(StationBackup, backup_id)
        if row is None or row.station != station or not row.complete:
            raise NotFound("backup", backup_id)
        count = session.exec(
            select(func.count())
            .select_from(StationBackupChunk)
            .where(StationBackupChunk.backup_id == backup_id)
        ).one()
        name, size = row.name, row.size

    def chunks() -> Iterator[bytes]:
        for index in range(int(count)):
            with hub.db.transaction() as session:
                piece = session.get(StationBackupChunk, (backup_id, index))
            if piece is None:  # pruned meanwhile
                return
            yield piece.data

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
        },
    )
