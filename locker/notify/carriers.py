"""Carriers the shop connected: their webhook URLs and signing secrets.

A secret is derived from the station key, the carrier's name and a version number, so
none is stored; the admin sees it once when the carrier is connected (or the secret is
changed), and gives it to the carrier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlmodel import select

from locker.audit import record
from locker.codes import CodeHasher
from locker.errors import DomainError
from locker.notify.webhook_guard import WebhookGuard, redact
from locker.station import Station
from locker.store.tables import Carrier


class BadWebhookUrl(DomainError):
    code = "invalid_request"
    status = 422


@dataclass(frozen=True)
class CarrierHook:
    name: str
    webhook_url: str
    secret: str | None = None  # shown only when it was just made


def carrier_secret(hasher: CodeHasher, name: str, version: int) -> str:
    return hasher.secret("webhook", f"{name}\x1f{version}")


def _check_url(url: str) -> None:
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadWebhookUrl(f"a webhook URL must be http(s)://host/...: {url!r}")


def connect(
    station: Station,
    *,
    name: str,
    webhook_url: str,
    actor: str,
    new_secret: bool = False,
    guard: WebhookGuard | None = None,
) -> CarrierHook:
    """Set where the carrier's webhooks go; the secret is returned on the first connection
    and whenever ``new_secret`` asks for another one (the old one stops verifying).

    A URL into the station's own network is refused (``webhook_url_forbidden``) unless
    ``guard`` allows its host (LOCKER_WEBHOOK_ALLOW_HOSTS)."""
    if webhook_url:
        _check_url(webhook_url)
        (guard or WebhookGuard()).check_url(webhook_url)
    with station.db.write() as session:
        row = session.get(Carrier, name)
        fresh = row is None
        if row is None:
            row = Carrier(name=name, webhook_url=webhook_url)
        else:
            row.webhook_url = webhook_url
            if new_secret:
                row.secret_version += 1
        session.add(row)
        record(
            session,
            actor=actor,
            action="carrier.connected",
            now=station.now(),
            detail=f"{name} -> {redact(webhook_url) if webhook_url else '(no webhook)'}"
            + (" (new secret)" if new_secret else ""),
        )
        version = row.secret_version
    shown = carrier_secret(station.hasher, name, version) if fresh or new_secret else None
    return CarrierHook(name=name, webhook_url=webhook_url, secret=shown)


def carriers(station: Station) -> Sequence[CarrierHook]:
    with station.db.read() as session:
        rows = session.exec(select(Carrier).order_by(Carrier.name)).all()
        return [CarrierHook(name=r.name, webhook_url=r.webhook_url) for r in rows]
