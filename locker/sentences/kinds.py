"""Small enumerations the staff screens name (parcel kinds, payment states and methods,
message channels), as words in English and German rather than their stored values."""

from __future__ import annotations

from collections.abc import Mapping

from common.sentences import Sentences

PARCEL_KINDS: Sentences = {
    "delivery": ("delivery", "Zustellung"),
    "return": ("return", "Rücksendung"),
    "shop_order": ("shop order", "Bestellung im Geschäft"),
}

PAY_STATES: Sentences = {
    "pending": ("waiting", "wartet"),
    "approved": ("paid", "bezahlt"),
    "returning": ("going back", "wird zurückgezahlt"),
    "failed": ("failed", "fehlgeschlagen"),
    "unknown": ("unknown: check it", "unklar: bitte prüfen"),
    "reversed": ("cancelled at the terminal", "am Terminal storniert"),
    "refunded": ("refunded", "erstattet"),
    "refund_failed": (
        "refund failed: hand it back",
        "Erstattung fehlgeschlagen: von Hand zurückgeben",
    ),
    "duplicate": ("paid twice, refunded", "doppelt bezahlt, erstattet"),
}

PAY_METHODS: Sentences = {
    "link": ("online", "online"),
    "card": ("card", "Karte"),
    "cash": ("cash", "bar"),
    "waived": ("waived", "erlassen"),
}

CHANNELS: Sentences = {
    "email": ("email", "E-Mail"),
    "shop_webhook": ("shop (SMS, push)", "Geschäft (SMS, Push)"),
    "carrier_webhook": ("carrier", "Paketdienst"),
    "staff_email": ("staff email", "E-Mail ans Personal"),
}

TABLES: Mapping[str, Sentences] = {
    "parcel_kind": PARCEL_KINDS,
    "pay_state": PAY_STATES,
    "pay_method": PAY_METHODS,
    "channel": CHANNELS,
}
