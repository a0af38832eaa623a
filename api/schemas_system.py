"""Bodies and answers of the station's health, the simulator, carriers, return codes,
notifications and QR images."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
)

from api.deferred import Model
from api.schemas import FailureKindOut, RequestBody
from locker.types import SizeClass


class QrIn(RequestBody):
    token: str = Field(pattern=r"^[A-Za-z0-9_-]{32}$", description="a parcel's QR token")


class BackupHealthOut(Model):
    state: Literal["ok", "failing", "never"] = Field(
        description="failing: the last backup could not be written (staff are alerted)"
    )
    last_good_at: datetime | None = Field(description="when the last good backup was taken")
    age_s: int | None = Field(description="how old it is, in seconds; null: there is none")


class UplinkHealthOut(Model):
    """The link to the fleet hub's broker (absent when the station has no hub)."""

    state: Literal["connecting", "connected", "refused"] = Field(
        description="refused: the broker refused the station, or the station refused the "
        "broker (an untrusted certificate, one for another name, a password it would send "
        "in clear); the station works on, it just does not report"
    )
    tls: bool
    detail: str | None = Field(
        description="why, in words", examples=["TLS: the broker's certificate was refused"]
    )
    since: datetime | None


class HealthOut(Model):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "failing"]
    buses: dict[str, Literal["ok", "no_answer"]]
    open_alerts: int
    backup: BackupHealthOut
    uplink: UplinkHealthOut | None = None


class BoardHealthOut(Model):
    """How one board's failed reads ended (drivers.counters.BoardFailures)."""

    address: int
    last_failure: FailureKindOut | None = Field(
        description="the kind that dominated the last read that got no answer: a whole frame "
        "with a wrong checksum, bytes but no whole frame, or not one byte; null if none failed"
    )
    last_failure_detail: str | None = Field(
        description="e.g. 'bad checksum (3 of 3 tries)'", examples=["bad checksum (3 of 3 tries)"]
    )
    answered_since: bool = Field(description="a read succeeded after the last failure")
    failed_reads: dict[FailureKindOut, int] = Field(
        description="reads that got no answer since the station started, by kind"
    )


class BusHealthOut(Model):
    bus: str
    counters: dict[str, int]
    boards: list[BoardHealthOut] = []


class SimDoorOut(Model):
    compartment_id: int
    latched: bool
    open: bool
    item: bool
    pulses: int


class SimFaultIn(RequestBody):
    fault: Literal[
        "no_answer",
        "late_answer",
        "corrupt_byte",
        "truncated",
        "stuck_latch",
        "lying_sensor",
        "gone",
        "exception",
    ]
    count: StrictInt | None = Field(default=None, ge=1, le=1000, description="None: until cleared")


class SimSensorIn(RequestBody):
    """A simulated XY-MD02's temperature from now on, and how fast it drifts."""

    celsius: float = Field(ge=-40, le=80)
    drift_per_min: float = Field(default=0.0, ge=-60, le=60, description="°C per minute")


class SimSensorOut(Model):
    sensor_id: str
    address: int
    celsius: float
    silent: bool


class CarrierIn(RequestBody):
    webhook_url: str = Field(
        default="", max_length=500, description="where its webhooks go (empty: none)"
    )
    new_secret: StrictBool = Field(default=False, description="make a new signing secret")


class CarrierOut(Model):
    name: str
    webhook_url: str
    secret: str | None = Field(
        default=None,
        description="HMAC-SHA256 key of X-Station-Signature; shown only when it is new",
    )


class ReturnCodeIn(RequestBody):
    reference: str = Field(min_length=1, max_length=64, description="the return's number")
    size: SizeClass
    carrier: str | None = Field(
        default=None, max_length=200, description="staff only: whose return (default: the shop)"
    )


class ReturnCodeOut(Model):
    pin: str = Field(description="for the customer to type at the kiosk; shown once")
    carrier: str
    reference: str
    expires_at: datetime


class DeliveryOut(Model):
    id: int
    event: str
    parcel_id: int | None
    channel: str
    recipient: str
    state: str
    attempts: int
    last_error: str
    next_attempt_at: datetime
    sent_at: datetime | None
