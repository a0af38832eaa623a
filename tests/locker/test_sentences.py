"""Every code a screen may show has a sentence in English and German: the refusals'
codes (collected from the error classes and the places that raise them), the audit log's
actions, the events and alerts, the hub's commands and its own audit rows. A code
without one still reads as words, never as ``snake_case`` or a Python dict."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import get_args

import pytest

import fleet
import locker
from common.errors import CodedError
from common.sentences import Sentences, readable, say
from drivers.counters import BoardFailures, FailureKind
from fleet.screens.sentence_words import COMMANDS, FLEET_PROBLEMS, HUB_AUDIT
from fleet.screens.sentences import ALL_PROBLEMS, audit_sentence, command_sentence
from fleet.screens.sentences import Say as HubSay
from locker.cold.band import ColdStatus
from locker.lifecycle import TRANSITIONS
from locker.locks import DoorOutcome
from locker.notify.messages import RECIPIENT_EVENTS
from locker.payments.records import PayState
from locker.sentences import audit, buses, events, kinds
from locker.sentences.problems import PROBLEMS, refusal
from locker.services.reconcile import NOT_OPENED, OPENED, UNKNOWN
from locker.types import AlertKind, ColdKind, Condition
from locker.uplink.messages import CommandType, EventType

ROOT = Path(__file__).resolve().parents[2]


def _load(package: object) -> None:
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):  # type: ignore[attr-defined]
        if "migrations" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _subclasses(base: type) -> Iterator[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@cache
def _nodes(folder: str) -> tuple[ast.AST, ...]:
    """Every node of every module under ``folder``, parsed once for all the scans."""
    return tuple(
        node
        for path in sorted((ROOT / folder).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def _calls(folder: str, callee: str, position: int) -> set[str]:
    """The literal strings given as argument ``position`` to calls of ``callee``."""
    found = set()
    for node in _nodes(folder):
        if not isinstance(node, ast.Call) or len(node.args) <= position:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        arg = node.args[position]
        if name == callee and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value)
    return found


def _keywords(folder: str, keyword: str) -> set[str]:
    """The literal strings given as ``keyword=`` anywhere, and assigned to that name."""
    found = set()
    for node in _nodes(folder):
        named = isinstance(node, ast.keyword) and node.arg == keyword
        assigned = isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == keyword for t in node.targets
        )
        if not (named or assigned):
            continue
        for part in ast.walk(node.value):  # type: ignore[attr-defined]
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                found.add(part.value)
    # the literal parts of an f-string (``f"door.{outcome}"``) are no action of their own
    return {f for f in found if f and " " not in f and not f.endswith((".", "_"))}


@cache
def station_codes() -> set[str]:
    _load(locker)
    importlib.import_module("api.screens.central")
    codes = (
        {sub.__dict__["code"] for sub in _subclasses(CodedError) if "code" in sub.__dict__}
        - {c for c in FLEET_PROBLEMS}
        - {"fleet_error", "cross_site_request"}
    )
    codes |= {f"no_free_{kind.value}_compartment" for kind in ColdKind}
    codes |= {f"{what}_not_found" for what in _calls("locker", "NotFound", 0)}
    codes |= _calls("locker", "CentralRefused", 0) | _calls("api", "CentralSignInRefused", 0)
    codes |= _calls("locker/uplink", "refused", 3) | {"cannot_apply", "unreadable_command"}
    return codes


@cache
def hub_codes() -> set[str]:
    _load(fleet)
    from fleet.errors import FleetError

    codes = {s.__dict__["code"] for s in _subclasses(FleetError) if "code" in s.__dict__}
    return codes | {f"{what}_not_found" for what in _calls("fleet", "NotFound", 0)}


@cache
def station_actions() -> set[str]:
    found = _keywords("locker", "action") | _calls("locker/payments", "_audit", 2)
    found = {a for a in found if "." in a or a == "open_all"}
    found |= {f"parcel.{t}" for t in TRANSITIONS.values()}
    found |= {f"compartment.{c.value}" for c in Condition}
    found |= {f"door.{o.value}" for o in DoorOutcome}
    found |= {f"door.reconciled_{v}" for v in (OPENED, NOT_OPENED, UNKNOWN)}
    found |= {f"alert.{k.value}" for k in AlertKind}
    found |= {f"cold.{s.value}" for s in ColdStatus}
    found |= {f"hub.{t}" for t in get_args(CommandType)}
    return found | {f"payment.{s.value}" for s in PayState}


def test_the_scans_find_the_codes_and_actions() -> None:
    assert {"courier_not_found", "door_busy", "pass_expired", "wrong_station"} <= station_codes()
    assert {"login_failed", "station_not_found", "grant_refused"} <= hub_codes()
    assert {"carrier.connected", "open_all.done", "payment.started"} <= station_actions()


def test_every_code_of_the_station_has_a_sentence() -> None:
    assert station_codes() - set(PROBLEMS) == set()


def test_every_code_of_the_hub_has_a_sentence() -> None:
    assert hub_codes() - set(ALL_PROBLEMS) == set()


def test_every_audit_action_event_alert_and_command_has_a_sentence() -> None:
    assert station_actions() - set(audit.ACTIONS) == set()
    assert set(get_args(EventType)) - set(events.EVENTS) == set()
    assert {k.value for k in AlertKind} - set(events.ALERTS) == set()
    assert set(get_args(CommandType)) - set(COMMANDS) == set()
    hub_actions = _calls("fleet", "audit", 3)
    assert hub_actions
    assert hub_actions - set(HUB_AUDIT) == set()
    sent = set(RECIPIENT_EVENTS) | {f"parcel.{t}" for t in TRANSITIONS.values()}
    assert sent - set(events.MESSAGES) == set()
    assert {k.value for k in FailureKind} - set(buses.KINDS) == set()


TABLES: dict[str, Sentences] = {
    "problems": PROBLEMS,
    "fleet_problems": FLEET_PROBLEMS,
    "audit": audit.ACTIONS,
    "why": audit.WHY,
    "events": events.EVENTS,
    "alerts": events.ALERTS,
    "messages": events.MESSAGES,
    "states": events.PARCEL_STATES,
    "commands": COMMANDS,
    "hub_audit": HUB_AUDIT,
    "bus_counters": buses.COUNTERS,
    "bus_lines": buses.LINES,
    **{f"kinds_{name}": table for name, table in kinds.TABLES.items()},
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_both_languages_say_every_sentence_with_the_same_facts(name: str) -> None:
    for code, (english, german) in TABLES[name].items():
        assert english.strip(), code
        assert german.strip(), code
        assert _fields(english) == _fields(german), code
        assert "_" not in english.replace("{", "").split("}")[-1], code  # no code in it


def test_a_code_without_a_sentence_still_reads_as_words() -> None:
    assert readable("courier_not_found") == "Courier not found"
    assert readable("parcel.personal_data_erased") == "Parcel: personal data erased"
    assert say(PROBLEMS, "a_code_from_a_newer_station", "de") == "A code from a newer station"
    assert say(PROBLEMS, "too_many_attempts", "de", {}) == (
        "Zu viele falsche Versuche. Bitte warten Sie ? s."  # a missing fact: "?"
    )


def test_refusals_audit_rows_commands_and_buses_as_sentences() -> None:
    from locker.errors import NotFound, TooManyAttempts

    assert refusal(NotFound("courier", "bob"), "en") == "No courier of that name at this station."
    assert refusal(NotFound("parcel", 7), "de") == "An dieser Station gibt es kein Paket 7."
    assert refusal(TooManyAttempts(12.2), "de") == (
        "Zu viele falsche Versuche. Bitte warten Sie 13 s."
    )
    assert audit.audit_sentence(
        "compartment.out_of_service", "de", compartment_id=3, detail="door sticks"
    ) == ("Fach 3 außer Betrieb genommen: door sticks")
    assert audit.audit_sentence("collect.refused", "en", detail="3 × too_many_attempts") == (
        "3 pickup tries refused: too many wrong tries"
    )
    assert audit.audit_sentence("hub.extend", "de", detail="c0ffee: parcel_not_found") == (
        "Hub gab einem Paket mehr Zeit: An dieser Station gibt es kein Paket ?."
    )
    # an older hub audit row holds the args as a Python dict; a newer one as JSON
    for args in (
        "{'compartment_id': 3, 'reason': 'door sticks'}",
        '{"compartment_id": 3, "reason": "door sticks"}',
    ):
        assert audit_sentence("command.out_of_service", f"c1: out_of_service {args}", "en") == (
            "Command: Take compartment 3 out of service: door sticks"
        )
    assert command_sentence("extend", {"parcel_id": 4, "until": "2026-12-10T10:00:00Z"}, "de") == (
        "Paket 4 mehr Zeit geben, bis 2026-12-10 10:00 UTC"
    )
    board = BoardFailures(1, (FailureKind.SILENCE,) * 3).as_dict()
    assert buses.bus_sentences(
        {"main": "no_answer"}, {"main": {"attempts_silent": 3}}, {"main": [board]}, "en"
    ) == [
        "Bus main does not answer: board 1: no answer, 3 of 3 tries (last read); "
        "since start: 3 × no answer"
    ]
    # the hub has only the counters a station reported: which bus, and what failed
    hub = {"main": {"requests": 90, "replies": 80, "timeouts": 10, "attempts_silent": 10}}
    assert HubSay("de").buses(hub) == ["Bus main: seit dem Start: 10 × keine Antwort"]
