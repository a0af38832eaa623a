"""Identifiers and the enumerations shared by the whole domain."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

CompartmentId = NewType("CompartmentId", int)
ParcelId = NewType("ParcelId", int)


class SizeClass(StrEnum):
    """Size class of a compartment or a parcel, smallest first."""

    S = "S"
    M = "M"
    L = "L"
    XL = "XL"

    @property
    def rank(self) -> int:
        return _SIZE_ORDER.index(self)


_SIZE_ORDER = [SizeClass.S, SizeClass.M, SizeClass.L, SizeClass.XL]


class Occupancy(StrEnum):
    """What a compartment holds."""

    FREE = "free"
    RESERVED = "reserved"  # held for a parcel that is on its way in
    OCCUPIED = "occupied"  # a parcel is inside (stored or expired)


class Condition(StrEnum):
    """Whether a compartment may be used; independent of what it holds."""

    OK = "ok"
    OUT_OF_SERVICE = "out_of_service"  # staff took it out
    FAULT = "fault"  # the hardware misbehaved


class CompartmentState(StrEnum):
    """The single state shown to people (design page): condition wins over occupancy."""

    FREE = "free"
    RESERVED = "reserved"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"
    FAULT = "fault"

    @classmethod
    def of(cls, occupancy: Occupancy, condition: Condition) -> CompartmentState:
        if condition is not Condition.OK:
            return cls(condition.value)
        return cls(occupancy.value)


class ParcelState(StrEnum):
    ANNOUNCED = "announced"
    RESERVED = "reserved"
    STORED = "stored"
    COLLECTED = "collected"
    EXPIRED = "expired"
    RETURNED = "returned"
    LAPSED = "lapsed"  # announced, never brought in before the announcement expired


class DoorPurpose(StrEnum):
    """Why a door is being opened; recorded on every door intent."""

    DEPOSIT = "deposit"
    COLLECT = "collect"
    TAKE_BACK = "take_back"
    STAFF = "staff"
    OPEN_ALL = "open_all"  # an admin opened every door at once (e.g. for cleaning)


class Role(StrEnum):
    """Who an account belongs to (design page, Roles); customers have no account."""

    COURIER = "courier"  # a carrier's account: deposits and takes back
    STAFF = "staff"  # the shop: the maintenance screen
    ADMIN = "admin"  # staff who also manage accounts


class AlertKind(StrEnum):
    """Something staff must look at."""

    DOOR_LEFT_OPEN = "door_left_open"
    DOOR_FAULT = "door_fault"
    NOTIFICATION_FAILED = "notification_failed"  # a message could not be sent for days
    STAFF_OPENINGS = "staff_openings"  # many staff door openings in a short time
    BACKUP_FAILED = "backup_failed"  # the last backup could not be written
    RECIPIENT_UNKNOWN = "recipient_unknown"  # a parcel stored for nobody in the directory
    COLD_OUT_OF_BAND = "cold_out_of_band"  # a cold group too warm (or too cold) for too long
    COLD_SENSOR_SILENT = "cold_sensor_silent"  # a cold group's thermometer does not answer
    PAYMENT_REFUND = "payment_refund"  # money to hand back by hand (a refund failed)
    PAYMENT_UNKNOWN = "payment_unknown"  # a card payment the station lost track of


class ColdKind(StrEnum):
    """A cooled compartment group's kind, and what a parcel that needs cooling asks for.

    A cold parcel goes only into a compartment of its own kind: chilled goods spoil when
    frozen, frozen ones thaw in a fridge."""

    CHILLED = "chilled"  # a band, by default 2..8 °C
    FROZEN = "frozen"  # by default -18 °C or colder


class ParcelKind(StrEnum):
    """Where a parcel comes from and who takes it away."""

    DELIVERY = "delivery"  # a carrier's courier brings it; the recipient collects it
    RETURN = "return"  # a customer drops it off with a return code; a courier takes it away
    SHOP_ORDER = "shop_order"  # the shop's own order (click & collect), put in by staff


class DeliveryState(StrEnum):
    """A notification on its way to one recipient over one channel."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    GAVE_UP = "gave_up"  # kept failing for too long; staff were alerted
    SKIPPED = "skipped"  # nothing left to tell (the parcel was collected before its code went)


class Channel(StrEnum):
    EMAIL = "email"  # the recipient's mail, over SMTP
    SHOP_WEBHOOK = "shop_webhook"  # the shop's URL: SMS and push to recipients, staff alerts
    CARRIER_WEBHOOK = "carrier_webhook"  # the parcel's carrier, every change of state
    STAFF_EMAIL = "staff_email"  # the shop's staff, alerts
