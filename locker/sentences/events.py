"""What happened at the station, as sentences: its alerts' kinds (locker.types.AlertKind),
the events it sends the hub (locker/uplink/messages.py EventType, with their data) and the
messages it sends people (the outbox's events, locker/notify)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.sentences import Sentences, say
from locker.sentences.audit_words import PURPOSES

ALERTS: Sentences = {
    "door_left_open": ("Door left open", "Tür offen gelassen"),
    "door_fault": ("Door fault", "Türstörung"),
    "notification_failed": ("A message could not be sent", "Eine Nachricht ging nicht hinaus"),
    "staff_openings": ("Many doors opened by staff", "Viele Türen vom Personal geöffnet"),
    "backup_failed": ("The backup could not be written", "Die Sicherung ließ sich nicht schreiben"),
    "recipient_unknown": (
        "A parcel for no one in the directory",
        "Ein Paket für niemanden im Verzeichnis",
    ),
    "cold_out_of_band": (
        "A cooled group is out of its temperature band",
        "Eine Kühlgruppe ist außerhalb ihres Temperaturbereichs",
    ),
    "cold_sensor_silent": (
        "A cooled group's thermometer does not answer",
        "Das Thermometer einer Kühlgruppe antwortet nicht",
    ),
    "payment_refund": ("Money to hand back by hand", "Geld von Hand zurückzugeben"),
    "payment_unknown": ("A card payment to check", "Eine Kartenzahlung zu prüfen"),
}

PARCEL_STATES: Sentences = {
    "announced": ("announced", "angekündigt"),
    "reserved": ("compartment reserved", "Fach reserviert"),
    "stored": ("waiting in the station", "wartet in der Station"),
    "collected": ("collected", "abgeholt"),
    "expired": ("not collected in time", "nicht rechtzeitig abgeholt"),
    "returned": ("taken back", "zurückgenommen"),
}

COMPARTMENT_STATES: Sentences = {
    "ok": ("in service", "in Betrieb"),
    "free": ("free", "frei"),
    "reserved": ("reserved", "reserviert"),
    "occupied": ("occupied", "belegt"),
    "out_of_service": ("out of service", "außer Betrieb"),
    "fault": ("at fault", "gestört"),
}

DOOR_OUTCOMES: Sentences = {
    "opened": ("opened", "geöffnet"),
    "refused": ("did not open (the lock stayed shut)", "ging nicht auf (Schloss blieb zu)"),
    "no_answer": ("no answer from its board", "keine Antwort der Steuerung"),
    "unknown": ("unknown whether it opened", "unbekannt, ob sie aufging"),
}

COLD_STATUSES: Sentences = {
    "ok": ("keeps its temperature", "hält die Temperatur"),
    "out_of_band": ("out of its band", "außerhalb des Bereichs"),
    "silent": ("thermometer silent", "Thermometer stumm"),
    "unknown": ("not known yet", "noch unbekannt"),
}

# station events the hub shows (fields: the event's data, plus the words above)
EVENTS: Sentences = {
    "parcel": (
        "Parcel {id} ({tracking_number}): {state}",
        "Paket {id} ({tracking_number}): {state}",
    ),
    "door": (
        "Door {compartment_id} ({purpose}): {outcome}",
        "Tür {compartment_id} ({purpose}): {outcome}",
    ),
    "compartment": ("Compartment {compartment_id}: {state}", "Fach {compartment_id}: {state}"),
    "alert.raised": ("Alert: {alert}{where}", "Alarm: {alert}{where}"),
    "alert.cleared": ("Alert cleared: {alert}{where}", "Alarm erledigt: {alert}{where}"),
    "capacity": ("Free compartments: {free}", "Freie Fächer: {free}"),
    "bus": ("Bus health reported", "Zustand der Busse gemeldet"),
    "reminder": ("Reminder sent for parcel {id}", "Erinnerung zu Paket {id} verschickt"),
    "cold": ("Cooled group {group}: {status}", "Kühlgruppe {group}: {status}"),
    "paid": ("Parcel {id} paid", "Paket {id} bezahlt"),
    "erased": ("A person's data erased", "Daten einer Person gelöscht"),
}
WHERE: tuple[str, str] = (" (compartment {n})", " (Fach {n})")

# the messages the station sends (the outbox's events): what each one tells
MESSAGES: Sentences = {
    "code.issued": ("Pickup code", "Abholcode"),
    "parcel.reminder": ("Reminder", "Erinnerung"),
    "parcel.last_call": ("Last call", "Letzte Erinnerung"),
    "parcel.deadline_extended": ("New deadline", "Neue Abholfrist"),
    "parcel.extended": ("New deadline", "Neue Abholfrist"),
    "parcel.expired": ("Not collected in time", "Nicht rechtzeitig abgeholt"),
    "parcel.collected": ("Collected", "Abgeholt"),
    "parcel.returned": ("Went back to the carrier", "Ging an den Paketdienst zurück"),
    "parcel.lapsed": ("Announcement lapsed", "Ankündigung verfallen"),
    "parcel.cold_warning": ("Collect soon: cooling trouble", "Bald abholen: Kühlung gestört"),
    "parcel.paid": ("Receipt", "Beleg"),
    "parcel.reserved": ("Compartment reserved", "Fach reserviert"),
    "parcel.released": ("Reservation released", "Reservierung aufgehoben"),
    "parcel.stored": ("Parcel stored", "Paket eingelegt"),
}

DELIVERY_STATES: Sentences = {
    "pending": ("waiting", "wartet"),
    "sent": ("sent", "verschickt"),
    "gave_up": ("given up", "aufgegeben"),
    "skipped": ("not needed", "nicht nötig"),
}


def alert_sentence(kind: str, lang: str) -> str:
    return say(ALERTS, kind, lang)


def message_sentence(event: str, lang: str) -> str:
    """An outbox event as what the message tells; an alert's by its kind."""
    if event.startswith("alert."):
        return alert_sentence(event.removeprefix("alert."), lang)
    return say(MESSAGES, event, lang)


def _where(data: Mapping[str, Any], lang: str) -> str:
    n = data.get("compartment_id")
    return WHERE[1 if lang == "de" else 0].format(n=n) if n else ""


def event_sentence(kind: str, data: Mapping[str, Any], lang: str) -> str:
    """A station event (its type and data) as a sentence."""
    facts: dict[str, Any] = dict(data)
    if kind == "parcel":
        facts["state"] = say(PARCEL_STATES, str(data.get("state")), lang)
    elif kind == "door":
        facts["purpose"] = say(PURPOSES, str(data.get("purpose")), lang)
        facts["outcome"] = say(DOOR_OUTCOMES, str(data.get("outcome")), lang)
    elif kind == "compartment":
        state = data.get("state") or data.get("condition")
        facts["state"] = say(COMPARTMENT_STATES, str(state), lang)
    elif kind.startswith("alert."):
        facts["alert"] = alert_sentence(str(data.get("kind")), lang)
        facts["where"] = _where(data, lang)
    elif kind == "capacity":
        free = data.get("free") or {}
        facts["free"] = ", ".join(f"{size} {n}" for size, n in free.items()) or "0"
    elif kind == "cold":
        facts["status"] = say(COLD_STATUSES, str(data.get("status")), lang)
    return say(EVENTS, kind, lang, facts)
