"""Errors of the domain; each carries a stable machine ``code`` for the API.

::

    DomainError
     ├── NotFound                 parcel_not_found, compartment_not_found
     ├── InvalidTransition        invalid_transition (the state machine forbids it)
     ├── TrackingNumberLive       tracking_number_live (that carrier's number is a live parcel)
     ├── NoChannel                no_channel (a code cannot be sent to the recipient)
     ├── NoFreeCompartment        no_free_compartment
 │    └── NoFreeColdCompartment   no_free_chilled_compartment, no_free_frozen_compartment
 │                             (a cold parcel never goes into an ambient compartment)
     ├── CodeInvalid              code_invalid (unknown, used and expired look the same)
     ├── TooManyAttempts          too_many_attempts (carries retry_after seconds)
     ├── DoorBusy                 door_busy (another operation on that door is under way)
     ├── DoorNotClosed            door_not_closed (a deposit's door is not latched yet)
     ├── ParcelNotDetected        parcel_not_detected (the IR strip sees an empty compartment)
     ├── ReasonRequired           reason_required (a staff door opening says why)
     ├── SecondStaffRequired      second_staff_required (too many staff openings just now)
     ├── SecondStaffInvalid       second_staff_invalid (the confirming staff member's
     │                            name or password is wrong, or not staff)
     ├── SecondStaffSamePerson    second_staff_same_person (one cannot confirm oneself)
     └── StationMisconfigured     station_misconfigured (layout and database disagree)

A door that does not open is not an error: services return it as an outcome.
"""

from __future__ import annotations

from common.errors import CodedError, Missing, Throttled, whole_seconds
from locker.types import ColdKind


class DomainError(CodedError):
    code = "domain_error"
    status = 400


class NotFound(DomainError, Missing):
    code = "not_found"
    status = 404


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class TrackingNumberLive(DomainError):
    """The carrier's tracking number is a live parcel here already (announced, held,
    stored or expired): one tracking number of one carrier is never two parcels."""

    code = "tracking_number_live"
    status = 409


class NoChannel(DomainError):
    """A code cannot be sent to the recipient: no mail server (or shop webhook) is set,
    or the parcel has no address for it. Staff make a new code and hand it over."""

    code = "no_channel"
    status = 409


class NoFreeCompartment(DomainError):
    code = "no_free_compartment"
    status = 409


class NoFreeColdCompartment(NoFreeCompartment):
    """No compartment of the parcel's cold kind is free (or its group is out of band)."""

    code = "no_free_cold_compartment"

    def __init__(self, kind: ColdKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = f"no_free_{kind.value}_compartment"


class CodeInvalid(DomainError):
    code = "code_invalid"
    status = 404

    def __init__(self) -> None:
        super().__init__("This code does not open any compartment. Check the code and try again.")


class TooManyAttempts(DomainError, Throttled):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: float, *, station_wide: bool = False) -> None:
        seconds = whole_seconds(retry_after)
        if station_wide:
            message = (
                "Too many wrong codes were tried at this station in the last hour. Scan the "
                "QR code from your message, or type your PIN at the station's own screen, "
                f"or wait {seconds} s."
            )
        else:
            message = f"Too many wrong codes. Please wait {seconds} s before trying again."
        super().__init__(message, seconds)
        self.station_wide = station_wide


class DoorBusy(DomainError):
    code = "door_busy"
    status = 409


class DoorNotClosed(DomainError):
    code = "door_not_closed"
    status = 409


class ParcelNotDetected(DomainError):
    code = "parcel_not_detected"
    status = 409


class ReasonRequired(DomainError):
    code = "reason_required"
    status = 422


class SecondStaffRequired(DomainError):
    code = "second_staff_required"
    status = 403


class SecondStaffInvalid(DomainError):
    code = "second_staff_invalid"
    status = 403


class SecondStaffSamePerson(DomainError):
    code = "second_staff_same_person"
    status = 403


class StationMisconfigured(DomainError):
    code = "station_misconfigured"
    status = 500
