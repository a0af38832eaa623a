"""Central staff at a station (locker.uplink.grants, api/screens/central.py): a hub operator
signs in at the maintenance screen with the hub's one-time pass, checked offline against
the grant the hub sent as a signed command. The station here has no hub it can reach (its
broker port has nobody listening): grants it holds and its local accounts keep working.
Every forged, replayed, expired, revoked or misdirected statement is refused, and audited."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from sqlmodel import col, select

from fleet.engines import free_port
from locker.sentences.problems import problem_sentence
from locker.store.tables import AuditEntry
from locker.uplink import commands
from locker.uplink.grants import GrantStatement, make_pass, new_grant_id
from locker.uplink.messages import Command
from tests.api.live import PASSWORD, LiveStation, live_station

KEY = secrets.token_bytes(32)
OTHER_KEY = secrets.token_bytes(32)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveStation]:
    with live_station(
        tmp_path,
        background=False,
        hub_station="a",
        mqtt_host="127.0.0.1",
        mqtt_port=free_port(),  # nobody there: the hub cannot be reached
        hub_command_key=KEY.hex(),
    ) as station:
        yield station


def send(
    live: LiveStation, kind: str, args: dict[str, object], *, station: str = "a", key: bytes = KEY
) -> commands.CommandResult:
    command = Command(
        id=uuid.uuid4().hex,
        station=station,
        type=kind,  # type: ignore[arg-type]
        args=args,
        issued_at=live.clock(),
        by="ada",
    ).signed(key)
    return commands.apply(live.runtime.station, "a", KEY, command)


def grant(
    live: LiveStation, operator: str = "ida", *, days: int = 7, station: str = "a", key: bytes = KEY
) -> str:
    statement = GrantStatement(
        new_grant_id(),
        station,
        operator,
        "staff",
        (live.clock() + timedelta(days=days)).replace(microsecond=0),
    ).signed(key)
    answer = send(live, "grant_access", statement.args())
    assert answer.ok, answer
    return statement.grant_id


def a_pass(
    live: LiveStation,
    grant_id: str,
    operator: str = "ida",
    *,
    station: str = "a",
    key: bytes = KEY,
    minutes: int = 10,
) -> str:
    return make_pass(key, station, operator, grant_id, live.clock() + timedelta(minutes=minutes))


def sign_in(live: LiveStation, name: str, password: str) -> httpx.Response:
    with live.client() as browser:
        return browser.post("/staff/sign-in", data={"name": name, "password": password})


def code_of(answer: commands.CommandResult) -> str | None:
    return None if answer.ok or answer.problem is None else answer.problem.code


def refused(answer: httpx.Response, code: str) -> None:
    assert answer.status_code == 401, answer.text
    assert escape(problem_sentence(code, "en")) in answer.text  # said, not the code


def audit(live: LiveStation, prefix: str) -> list[tuple[str, str, str]]:
    with live.runtime.station.db.read() as session:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action).startswith(prefix))
            .order_by(col(AuditEntry.id))
        ).all()
        return [(r.actor, r.action, r.detail) for r in rows]


def test_a_granted_operator_signs_in_once_per_pass_and_nothing_false_gets_in(
    live: LiveStation,
) -> None:
    gid = grant(live)
    good = a_pass(live, gid)
    answer = sign_in(live, "hub:ida", good)
    assert answer.status_code == 303, answer.text
    with live.client() as browser:
        browser.cookies.update(answer.cookies)
        page = browser.get("/staff")
        assert page.status_code == 200
        assert "hub:ida" in page.text  # on the maintenance screen

    refused(sign_in(live, "hub:ida", good), "pass_replayed")
    # forged: another key, a changed signature, text that is no pass at all
    refused(sign_in(live, "hub:ida", a_pass(live, gid, key=OTHER_KEY)), "pass_forged")
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    refused(sign_in(live, "hub:ida", tampered), "pass_forged")
    refused(sign_in(live, "hub:ida", "correct horse battery"), "pass_malformed")
    # someone else's pass, or a pass with this operator's name for another station
    refused(sign_in(live, "hub:eve", a_pass(live, gid)), "pass_forged")
    refused(sign_in(live, "hub:ida", a_pass(live, gid, station="b")), "pass_forged")
    # a pass the hub made for a grant this station never got
    refused(sign_in(live, "hub:ida", a_pass(live, new_grant_id())), "grant_unknown")
    # a pass that lasts too long, and one that has ended
    refused(sign_in(live, "hub:ida", a_pass(live, gid, minutes=600)), "pass_expired")
    stale = a_pass(live, gid)
    live.clock.advance(minutes=11)
    refused(sign_in(live, "hub:ida", stale), "pass_expired")

    # a local account is not touched by any of it, with no hub to be reached
    assert sign_in(live, "staff", PASSWORD).status_code == 303
    outcomes = [d for _a, action, d in audit(live, "central.refused")]
    assert outcomes == [
        "pass_replayed",
        "pass_forged",
        "pass_forged",
        "pass_malformed",
        "pass_forged",
        "pass_forged",
        "grant_unknown",
        "pass_expired",
        "pass_expired",
    ]
    assert [a for a, action, _d in audit(live, "central.signed_in")] == ["hub:ida"]


def test_an_expired_or_revoked_grant_is_refused_and_revoking_ends_the_session(
    live: LiveStation,
) -> None:
    short = grant(live, days=1)
    live.clock.advance(days=1, minutes=1)
    refused(sign_in(live, "hub:ida", a_pass(live, short)), "grant_expired")

    gid = grant(live)
    answer = sign_in(live, "hub:ida", a_pass(live, gid))
    assert answer.status_code == 303
    browser = live.client()
    browser.cookies.update(answer.cookies)
    assert browser.get("/staff").status_code == 200
    assert "hub:ida" in browser.get("/staff").text

    assert send(live, "revoke_access", {"grant_id": gid}).ok
    assert "hub:ida" not in browser.get("/staff").text  # signed out: the sign-in page
    browser.close()
    refused(sign_in(live, "hub:ida", a_pass(live, gid)), "grant_revoked")

    # a revocation that came first keeps a late copy of its grant from starting
    early = new_grant_id()
    assert send(live, "revoke_access", {"grant_id": early}).ok
    late = GrantStatement(early, "a", "ida", "staff", live.clock() + timedelta(days=3)).signed(KEY)
    answer_late = send(live, "grant_access", late.args())
    assert code_of(answer_late) == "grant_revoked"
    refused(sign_in(live, "hub:ida", a_pass(live, early)), "grant_revoked")
    actions = [action for _a, action, _d in audit(live, "central.")]
    assert actions.count("central.revoked") == 2


def test_a_grant_for_another_station_or_not_the_hubs_is_refused(live: LiveStation) -> None:
    # a statement signed for station b, carried in a good command to a
    for_b = GrantStatement(
        new_grant_id(), "b", "ida", "staff", live.clock() + timedelta(days=3)
    ).signed(KEY)
    answer = send(live, "grant_access", for_b.args())
    assert code_of(answer) == "grant_forged"
    # a statement under another key, and a command to b
    forged = GrantStatement(
        new_grant_id(), "a", "ida", "staff", live.clock() + timedelta(days=3)
    ).signed(OTHER_KEY)
    answer = send(live, "grant_access", forged.args())
    assert code_of(answer) == "grant_forged"
    good = GrantStatement(
        new_grant_id(), "a", "ida", "staff", live.clock() + timedelta(days=3)
    ).signed(KEY)
    answer = send(live, "grant_access", good.args(), station="b")
    assert code_of(answer) == "wrong_station"
    answer = send(live, "grant_access", good.args(), key=OTHER_KEY)
    assert code_of(answer) == "bad_signature"
    # a role beyond staff cannot be granted, even signed
    admin = GrantStatement(
        new_grant_id(), "a", "ida", "admin", live.clock() + timedelta(days=3)
    ).signed(KEY)
    answer = send(live, "grant_access", admin.args())
    assert code_of(answer) == "grant_forged"
    # none of these let anyone in
    for g in (for_b, forged, good, admin):
        refused(sign_in(live, "hub:ida", a_pass(live, g.grant_id)), "grant_unknown")
