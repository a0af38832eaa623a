"""What a notification says, in the recipient's language (English or German): a subject
and a plain text for people, and the facts for machines (webhooks)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.moments import moment
from locker.codes import CodeHasher, PickupCode, group_pin
from locker.notify.config import NotifyConfig
from locker.notify.payment_words import METHODS, PAY_LINE, RECEIPT, RECEIPT_NUMBER
from locker.payments.amounts import shown
from locker.payments.due import pay_url
from locker.store.tables import Parcel

# event -> (English subject, English text), (German subject, German text).
# Texts may use: {name} {tracking} {carrier} {station} {compartment} {deadline} {link}
WORDS: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "code.issued": (
        (
            "Your parcel is ready at {station}",
            "Hello {name},\n\nyour parcel {tracking} from {carrier} is waiting for you in "
            "compartment {compartment} of {station}.\n\nYour PIN: {pin}\nOr hold the QR code "
            "in this message to the station's scanner.\n\nPlease collect it by {deadline}."
            "\nNeed more time? {link}",
        ),
        (
            "Ihr Paket liegt bereit: {station}",
            "Hallo {name},\n\nIhr Paket {tracking} von {carrier} liegt für Sie in Fach "
            "{compartment} der {station}.\n\nIhre PIN: {pin}\nOder halten Sie den QR-Code aus "
            "dieser Nachricht an den Scanner der Station.\n\nBitte holen Sie es bis {deadline} "
            "ab.\nMehr Zeit nötig? {link}",
        ),
    ),
    "parcel.reminder": (
        (
            "Reminder: your parcel is waiting at {station}",
            "Hello {name},\n\nyour parcel {tracking} is still waiting in compartment "
            "{compartment}. Please collect it by {deadline}, with the PIN or QR code from our "
            "first message.\nNeed more time? {link}",
        ),
        (
            "Erinnerung: Ihr Paket wartet in der {station}",
            "Hallo {name},\n\nIhr Paket {tracking} wartet noch in Fach {compartment}. Bitte "
            "holen Sie es bis {deadline} ab, mit der PIN oder dem QR-Code aus unserer ersten "
            "Nachricht.\nMehr Zeit nötig? {link}",
        ),
    ),
    "parcel.last_call": (
        (
            "Last day to collect your parcel at {station}",
            "Hello {name},\n\ntoday is the last day: collect your parcel {tracking} by "
            "{deadline}, or it goes back to {carrier}.\nNeed more time? {link}",
        ),
        (
            "Letzter Tag: Ihr Paket in der {station}",
            "Hallo {name},\n\nheute ist der letzte Tag: Holen Sie Ihr Paket {tracking} bis "
            "{deadline} ab, sonst geht es an {carrier} zurück.\nMehr Zeit nötig? {link}",
        ),
    ),
    "parcel.deadline_extended": (
        (
            "More time for your parcel at {station}",
            "Hello {name},\n\nyou may now collect your parcel {tracking} until {deadline}. "
            "Your code stays the same.",
        ),
        (
            "Mehr Zeit für Ihr Paket in der {station}",
            "Hallo {name},\n\nSie können Ihr Paket {tracking} jetzt bis {deadline} abholen. "
            "Ihr Code bleibt derselbe.",
        ),
    ),
    "parcel.expired": (
        (
            "Your parcel was not collected in time",
            "Hello {name},\n\nyour parcel {tracking} was not collected by its deadline. It goes "
            "back to {carrier}. Until a courier takes it, the shop's staff may still help.",
        ),
        (
            "Ihr Paket wurde nicht rechtzeitig abgeholt",
            "Hallo {name},\n\nIhr Paket {tracking} wurde nicht bis zur Frist abgeholt. Es geht "
            "an {carrier} zurück. Bis ein Zusteller es mitnimmt, kann das Personal noch helfen.",
        ),
    ),
    "parcel.collected": (
        (
            "Your parcel was collected",
            "Hello {name},\n\nyour parcel {tracking} was collected from {station}. Thank you!",
        ),
        (
            "Ihr Paket wurde abgeholt",
            "Hallo {name},\n\nIhr Paket {tracking} wurde aus der {station} abgeholt. Danke!",
        ),
    ),
    "parcel.returned": (
        (
            "Your parcel went back to {carrier}",
            "Hello {name},\n\nyour parcel {tracking} was handed back to {carrier}.",
        ),
        (
            "Ihr Paket ging an {carrier} zurück",
            "Hallo {name},\n\nIhr Paket {tracking} wurde an {carrier} zurückgegeben.",
        ),
    ),
}
# "extended" (expired, given more time by staff) reads like a deadline moved on.
WORDS = {**WORDS, "parcel.extended": WORDS["parcel.deadline_extended"], **RECEIPT}
# A cold group left its band: its recipients are asked to come soon.
WORDS["parcel.cold_warning"] = (
    (
        "Please collect your parcel soon: {station}",
        "Hello {name},\n\nthe cooled compartment {compartment} that holds your parcel "
        "{tracking} does not keep its temperature just now. Please collect it as soon as you "
        "can, by {deadline} at the latest. If it cannot wait, the shop's staff will take it "
        "out and take it back, so that nothing spoils.",
    ),
    (
        "Bitte holen Sie Ihr Paket bald ab: {station}",
        "Hallo {name},\n\ndas Kühlfach {compartment} mit Ihrem Paket {tracking} hält gerade "
        "seine Temperatur nicht. Bitte holen Sie es so bald wie möglich ab, spätestens bis "
        "{deadline}. Kann es nicht warten, nimmt das Personal des Geschäfts es heraus und "
        "zurück, damit nichts verdirbt.",
    ),
)
# What messages of a cold parcel add: it waits less, so it should be collected soon.
COLD_NOTES: Mapping[str, tuple[str, str]] = {
    "chilled": (
        "It is chilled goods, kept cold in its compartment for a short time only: please "
        "collect it soon.",
        "Es ist Kühlware und wird im Fach nur kurz gekühlt aufbewahrt: Bitte holen Sie es bald ab.",
    ),
    "frozen": (
        "It is frozen goods, kept frozen in its compartment for a short time only: please "
        "collect it soon and take it straight to a freezer.",
        "Es ist Tiefkühlware und wird im Fach nur kurz tiefgekühlt aufbewahrt: Bitte holen "
        "Sie es bald ab und legen Sie es gleich in ein Gefrierfach.",
    ),
}
COLD_NOTED = frozenset({"code.issued", "parcel.reminder", "parcel.last_call"})
RECIPIENT_EVENTS = frozenset(WORDS)
STAFF_PREFIX = "alert."
STATION_FOOTER = (
    "{station}\n{address}\nOpening hours: {hours}",
    "{station}\n{address}\nÖffnungszeiten: {hours}",
)


@dataclass(frozen=True)
class Letter:
    """A message for a person: what it says, and the QR image of the code if it has one."""

    subject: str
    text: str
    language: str
    qr_token: str | None = None


def extend_token(hasher: CodeHasher, parcel_id: int) -> str:
    """The recipient's link to more time: the parcel and a keyed mark nobody can forge."""
    mark = hasher.secret("extend", str(parcel_id))[:32]
    return f"{parcel_id}.{mark}"


def parcel_of_token(hasher: CodeHasher, token: str) -> int | None:
    number, _, mark = token.partition(".")
    if not token.isascii() or not number.isdigit() or len(number) > 18:
        return None
    parcel_id = int(number)
    return parcel_id if hmac.compare_digest(extend_token(hasher, parcel_id), token) else None


def when(value: datetime | None, config: NotifyConfig) -> str:
    """A moment in the station's zone, with the zone: "2026-11-08 10:00 CET"."""
    return moment(value, config.timezone)


def to_recipient(
    event: str,
    parcel: Parcel,
    config: NotifyConfig,
    hasher: CodeHasher,
    *,
    code: PickupCode | None = None,
    deadline: datetime | None = None,
    facts: Mapping[str, Any] | None = None,
    due: bool = False,
) -> Letter:
    """The message of a parcel event for its recipient; ``facts``: the event's (a
    receipt's payment); ``due``: the parcel is unpaid, so the message says where to pay."""
    language = parcel.recipient_language if parcel.recipient_language in ("en", "de") else "en"
    english, german = WORDS[event]
    subject, text = german if language == "de" else english
    assert parcel.id is not None
    fields: dict[str, Any] = {
        "name": parcel.recipient_name,
        "tracking": parcel.tracking_number,
        "carrier": parcel.carrier,
        "station": config.station_name,
        "compartment": parcel.compartment_id or "–",
        "deadline": when(deadline or parcel.deadline, config),
        "link": f"{config.public_url}/extend/{extend_token(hasher, parcel.id)}",
        "pin": group_pin(code.pin) if code else "–",
        **_payment_fields(facts or {}, language, config),
    }
    footer_en, footer_de = STATION_FOOTER
    footer = (footer_de if language == "de" else footer_en).format(
        station=config.station_name,
        address=config.station_address or "",
        hours=config.opening_hours or "–",
    )
    body = text.format(**fields)
    if due and parcel.amount_due_cents:
        amount = shown(parcel.amount_due_cents, parcel.currency, language)
        url = pay_url(config.public_url, hasher, parcel.id)
        body += (PAY_LINE[1] if language == "de" else PAY_LINE[0]).format(amount=amount, url=url)
    if parcel.cold is not None and event in COLD_NOTED:
        note_en, note_de = COLD_NOTES[parcel.cold.value]
        body += "\n\n" + (note_de if language == "de" else note_en)
    return Letter(
        subject=subject.format(**fields),
        text=body + "\n\n-- \n" + footer,
        language=language,
        qr_token=code.qr_token if code else None,
    )


def _payment_fields(
    facts: Mapping[str, Any], language: str, config: NotifyConfig
) -> dict[str, Any]:
    if "amount_cents" not in facts:
        return {}
    de = language == "de"
    receipt = facts.get("receipt_number")
    method = METHODS.get(str(facts.get("method")), (str(facts.get("method")),) * 2)
    paid_at = facts.get("approved_at")
    return {
        "amount": shown(int(facts["amount_cents"]), str(facts.get("currency", "EUR")), language),
        "method": method[1] if de else method[0],
        "payment_id": facts.get("payment_id", ""),
        "provider_ref": facts.get("provider_ref") or "",
        "receipt": (RECEIPT_NUMBER[1] if de else RECEIPT_NUMBER[0]).format(n=receipt)
        if receipt
        else "",
        "paid_at": when(datetime.fromisoformat(paid_at), config) if paid_at else "–",
    }


def to_staff(event: str, config: NotifyConfig, compartment_id: int | None, detail: str) -> Letter:
    what = event.removeprefix(STAFF_PREFIX).replace("_", " ")
    where = f"compartment {compartment_id}" if compartment_id else config.station_name
    return Letter(
        subject=f"[{config.station_name}] {what}: {where}",
        text=f"{what} at {where}.\n\n{detail}\n\nSee the maintenance screen: "
        f"{config.public_url}/staff" + (f"?c={compartment_id}" if compartment_id else ""),
        language="en",
    )


def parcel_facts(parcel: Parcel) -> dict[str, Any]:
    """A parcel as webhooks describe it (no code, no personal data beyond the carrier's)."""
    return {
        "id": parcel.id,
        "kind": parcel.kind.value,
        "state": parcel.state.value,
        "carrier": parcel.carrier,
        "tracking_number": parcel.tracking_number,
        "compartment_id": parcel.compartment_id,
        "deadline": parcel.deadline.isoformat() if parcel.deadline else None,
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Station-Signature``: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>." + body, hex>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, now: int, tolerance_s: int) -> bool:
    """What a receiver does: the mark must match and be recent (a replay is refused)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
