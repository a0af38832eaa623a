"""The hub's personal data (issue 26): an announcement's recipient is held only until the
station answered; operators see initials and no signature; an erasure at the station
erases at the hub. Each is checked by searching every text column of the hub's database."""

from __future__ import annotations

from datetime import timedelta

from fleet import commands, grants
from fleet.ingest import Ingest
from locker.uplink.messages import CommandResult, topic
from tests.fleet.hub.support import T0, event, evt_topic, holding, parcel
from tests.fleet.hub.test_api import Hub
from tests.fleet.hub.test_api import hub as hub  # noqa: F401  (a fixture)

PERSON = ("Ann Marie Example", "ann.example@example.org", "+49 170 5550123")


def _announce(hub: Hub, tracking: str) -> str:
    body = {
        "recipient_name": PERSON[0],
        "recipient_email": PERSON[1],
        "recipient_phone": PERSON[2],
        "size": "M",
        "carrier": "DHL",
        "tracking_number": tracking,
    }
    answer = hub.http.post("/api/v1/stations/a/announcements", json=body, headers=hub.token("olga"))
    assert answer.status_code == 202, answer.text
    shown = answer.json()["args"]
    assert (shown["recipient_name"], shown["recipient_email"], shown["recipient_phone"]) == (
        "A. M. E.",
        "given",
        "given",
    )
    return str(answer.json()["id"])


def test_the_recipient_stays_at_the_hub_only_until_the_station_answered(hub: Hub) -> None:
    command_id = _announce(hub, "TRK0010")
    [sent] = hub.sent
    assert sent.args["recipient_name"] == PERSON[0]  # the station gets it whole
    assert {t for t, _c, _v in holding(hub.db, *PERSON)} == {"commands"}  # until it answers
    done = CommandResult(
        command_id=command_id, station="a", ok=True, result={"parcel_id": 10}, at=T0
    )
    Ingest(hub.db).handle(topic("a", "res"), done.payload(), T0)
    assert holding(hub.db, *PERSON) == []
    assert commands.initials(" ada  lovelace ") == "A. L."
    seen = hub.http.get(f"/api/v1/commands/{command_id}", headers=hub.token("olga")).json()
    assert seen["state"] == "ok"
    assert seen["args"]["recipient_name"] == "–"  # blanked, and said so
    assert seen["args"]["tracking_number"] == "TRK0010"  # what the work needs stays


def test_no_operator_reads_a_grants_signature(hub: Hub) -> None:
    with hub.db.transaction() as session:
        command = grants.give(
            session, operator="olga", station="a", until=T0 + timedelta(days=2), by="ada", now=T0
        )
    assert command.args["sig"]  # the station needs it
    seen = hub.http.get(f"/api/v1/commands/{command.id}", headers=hub.token("olga")).json()
    assert seen["type"] == "grant_access"
    assert "sig" not in seen["args"]
    assert seen["args"]["operator"] == "olga"


def test_an_erasure_at_the_station_erases_at_the_hub(hub: Hub) -> None:
    """The answer was lost (the hub's database was away): the command still holds the
    recipient when the parcel has come and gone and the station erases the person."""
    _announce(hub, "TRK0010")
    with hub.db.transaction() as session:  # the hub's audit quoted it, for the test's sake
        grants.audit(session, T0, "olga", "note", "a", f"called {PERSON[0]} at {PERSON[2]}")
    ingest = Ingest(hub.db)
    steps = [
        ("parcel", parcel(10, "announced", None)),
        ("parcel", parcel(10, "reserved", 2)),
        ("parcel", parcel(10, "stored", 2)),
        ("parcel", parcel(10, "collected", None)),
        ("erased", {"parcels": [{"id": 10, "tracking_number": "TRK0010", "carrier": "DHL"}]}),
    ]
    assert holding(hub.db, *PERSON) != []
    for seq, (kind, data) in enumerate(steps, start=1):
        ingest.handle(evt_topic(), event("a", seq, kind, **data).payload(), T0)
    assert holding(hub.db, *PERSON) == []
