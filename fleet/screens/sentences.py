"""The operators' screen says codes as sentences: a station's events and alerts, the
commands given (what they ask, what the station answered), the hub's audit rows and its
refusals, in the visitor's language (what a template calls ``say``)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.errors import CodedError
from common.moments import moment
from common.sentences import MISSING, say
from fleet.commands import shown_args
from fleet.screens.sentence_words import COMMANDS, FLEET_PROBLEMS, HUB_AUDIT
from fleet.tables import CommandRow, EventRow, HubAudit
from locker.sentences import buses, events, problems
from locker.sentences.problems import PROBLEMS

ALL_PROBLEMS = {**PROBLEMS, **FLEET_PROBLEMS}  # a station's answer, or the hub's own
MOMENTS = ("until", "expires_at")  # args that are moments (ISO text in the command)
_COMMAND_DETAIL = re.compile(r"(?P<id>\S+): (?P<kind>\w+) (?P<args>\{.*\})", re.S)
_GRANT = re.compile(r"(?P<id>\w+): (?P<operator>.+?)(?: until (?P<until>.+))?")
_PASS = re.compile(r"(?P<id>\w+): until (?P<until>.+)")


def _moment_text(value: object) -> str:
    try:
        return moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def command_sentence(kind: str, args: Mapping[str, Any], lang: str) -> str:
    """What a command asks, e.g. "Take compartment 3 out of service: door sticks"."""
    facts: dict[str, Any] = dict(shown_args(dict(args)))
    for key in MOMENTS:
        if key in facts:
            facts[key] = _moment_text(facts[key])
    facts["parcel"] = facts.get("parcel_id") or facts.get("tracking_number") or MISSING
    facts["note"] = f": {facts['note']}" if facts.get("note") else ""
    return say(COMMANDS, kind, lang, facts)


def _args_of(text: str) -> dict[str, Any]:
    """A command's args as the audit wrote them: JSON, or (older rows) a Python dict."""
    try:
        found = json.loads(text)
    except ValueError:
        try:
            found = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return {}
    return found if isinstance(found, dict) else {}


def audit_sentence(action: str, detail: str, lang: str) -> str:
    """A row of the hub's audit log, e.g. ``command.out_of_service`` with its args:
    "Command: Take compartment 3 out of service: door sticks"."""
    if action.startswith("command."):
        found = _COMMAND_DETAIL.fullmatch(detail)
        kind = found["kind"] if found is not None else action.removeprefix("command.")
        args = _args_of(found["args"]) if found is not None else {}
        asked = command_sentence(kind, args, lang)
        return say(HUB_AUDIT, "command", lang, {"asked": asked})
    pattern = {"grant.given": _GRANT, "grant.revoked": _GRANT, "pass.issued": _PASS}.get(action)
    found = pattern.fullmatch(detail) if pattern is not None else None
    facts = found.groupdict() if found is not None else {}
    return say(HUB_AUDIT, action, lang, {k: v for k, v in facts.items() if v is not None})


def refusal(exc: CodedError, lang: str) -> str:
    """What the operators' screen says of a refusal (the hub's or a station's code)."""
    return problems.refusal(exc, lang, ALL_PROBLEMS)


def problem_sentence(code: str, lang: str, facts: Mapping[str, object] | None = None) -> str:
    return say(ALL_PROBLEMS, code, lang, facts)


@dataclass(frozen=True)
class Say:
    lang: str

    def event(self, row: EventRow) -> str:
        return events.event_sentence(row.type, row.data, self.lang)

    def alert(self, kind: str) -> str:
        return events.alert_sentence(kind, self.lang)

    def command(self, row: CommandRow) -> str:
        return command_sentence(row.type, row.args, self.lang)

    def answer(self, row: CommandRow) -> str:
        """Why a station refused a command (empty: it did not)."""
        return problem_sentence(row.problem_code, self.lang) if row.problem_code else ""

    def audit(self, row: HubAudit) -> str:
        return audit_sentence(row.action, row.detail or "", self.lang)

    def buses(self, bus: Mapping[str, Any]) -> list[str]:
        """What failed on each bus, from the counters the station reported."""
        counters = {b: c for b, c in bus.items() if isinstance(c, dict)}
        return buses.bus_sentences({}, counters, {}, self.lang)
