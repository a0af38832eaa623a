"""The station sends its encrypted backups to the hub (``LOCKER_HUB_BACKUPS``): over HTTPS
to ``LOCKER_HUB_URL``, signed in as it signs in at the broker (its broker user and password,
HTTP Basic; its client certificate too, if it has one), in chunks of the size the hub asks
for, read from the sealed file one at a time. The hub's routes are in
:mod:`fleet.station_backups`; the sealed file is :mod:`locker.store.offsite`'s, and the hub
never has the key that opens it.

A chunk that fails is sent again a few times (a chunk sent twice replaces itself); an
upload that still fails raises :class:`HubBackupFailed`, which the backup job turns into
the backup-failed alert (the local backup and the copy folder's stand).
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from locker.runtime.settings import Settings
from locker.store.backups import Backup

if TYPE_CHECKING:
    import httpx

TRIES = 3  # per request
TIMEOUT_S = 60.0


class HubBackupFailed(Exception):
    """The backup did not reach the hub (why, in words for staff)."""


class HubBackupSender:
    """One of :class:`locker.store.backups.BackupSchedule`'s senders."""

    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.hub_url.rstrip("/")
        self._auth = (settings.mqtt_user, settings.mqtt_password)
        self._verify: ssl.SSLContext | bool = True
        if self.base_url.startswith("https://"):
            ca = settings.hub_ca_file or settings.mqtt_ca_file
            context = ssl.create_default_context(cafile=str(ca) if ca else None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if settings.mqtt_client_cert is not None and settings.mqtt_client_key is not None:
                context.load_cert_chain(settings.mqtt_client_cert, settings.mqtt_client_key)
            self._verify = context

    def __call__(self, sealed: Path, made: Backup) -> None:
        import httpx  # loaded only when a backup is sent (a run dependency, not at start)

        try:
            self._send(sealed)
        except httpx.HTTPError as exc:
            raise HubBackupFailed(
                f"not sent to the hub {self.base_url}: {type(exc).__name__}: {exc}"
            ) from exc

    def _send(self, sealed: Path) -> None:
        digest = hashlib.sha256()
        with open(sealed, "rb") as fh:
            for piece in iter(lambda: fh.read(1 << 20), b""):
                digest.update(piece)
        size = sealed.stat().st_size
        import httpx

        with httpx.Client(
            base_url=self.base_url, auth=self._auth, verify=self._verify, timeout=TIMEOUT_S
        ) as http:
            started = self._call(
                http,
                "POST",
                "/api/v1/station/backups",
                json={"name": sealed.name, "size": size, "sha256": digest.hexdigest()},
            ).json()
            backup_id, chunk = str(started["id"]), int(started["chunk_bytes"])
            with open(sealed, "rb") as fh:
                for index, piece in enumerate(iter(lambda: fh.read(chunk), b"")):
                    self._call(
                        http,
                        "PUT",
                        "/api/v1/station/backup-chunk",
                        params={"backup": backup_id, "index": index},
                        content=piece,
                        headers={"Content-Type": "application/octet-stream"},
                    )
            self._call(http, "POST", f"/api/v1/station/backups/{backup_id}/complete")

    def _call(self, http: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
        import httpx

        for attempt in range(TRIES):
            try:
                answer = http.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                if attempt == TRIES - 1:
                    raise
                continue
            if answer.status_code >= 500 and attempt < TRIES - 1:
                continue
            if answer.is_error:
                raise HubBackupFailed(f"the hub {self.base_url} refused it: {_said(answer)}")
            return answer
        raise AssertionError("unreachable")  # pragma: no cover


def _said(answer: httpx.Response) -> str:
    try:
        body = answer.json()
        return f"{answer.status_code} {body.get('code')}: {body.get('detail')}"
    except ValueError:
        return f"{answer.status_code} {answer.text[:200]}"
