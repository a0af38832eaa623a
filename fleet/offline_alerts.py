"""The hub's own alert of a station that is away: raised once a station has been offline
longer than ``FLEET_OFFLINE_ALERT_MIN``, dated from then, ended when it is back."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from fleet.db import HubDatabase

OFFLINE_ALERT = "offline"  # the hub's own alert: a station away longer than the setting


def raise_offline_alerts(db: HubDatabase, now: datetime, after: timedelta) -> int:
    """An ``offline`` alert for each station offline longer than ``after``, raised as of
    then; once per station (an index keeps two workers' sweeps from raising it twice).
    How many were raised."""
    with db.transaction() as session:
        raised = session.execute(
            sa.text(
                "INSERT INTO alerts (station, kind, compartment_id, detail, raised_at) "
                "SELECT station, :kind, NULL, '', offline_since + :after FROM station_state "
                "WHERE NOT online AND offline_since <= :due "
                "ON CONFLICT (station) WHERE kind = 'offline' DO NOTHING"
            ),
            {"kind": OFFLINE_ALERT, "after": after, "due": now - after},
        )
        return int(raised.rowcount or 0)  # type: ignore[attr-defined]
