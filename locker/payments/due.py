"""What a pickup code shows while its parcels are unpaid: the amount and how to pay (the
link of the notification, which the kiosk also shows as a QR code)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from locker.codes import CodeHasher
from locker.errors import DomainError
from locker.payments.amounts import shown


def pay_token(hasher: CodeHasher, parcel_id: int) -> str:
    """The parcel's pay link token: its number and a keyed mark nobody can forge."""
    return f"{parcel_id}.{hasher.secret('pay', str(parcel_id))[:32]}"


def parcel_of_pay_token(hasher: CodeHasher, token: str) -> int | None:
    number, _, _mark = token.partition(".")
    if not token.isascii() or not number.isdigit() or len(number) > 18:
        return None
    parcel_id = int(number)
    return parcel_id if hmac.compare_digest(pay_token(hasher, parcel_id), token) else None


def pay_url(public_url: str, hasher: CodeHasher, parcel_id: int) -> str:
    return f"{public_url.rstrip('/')}/pay/{pay_token(hasher, parcel_id)}"


@dataclass(frozen=True)
class Due:
    parcel_id: int
    amount_cents: int
    currency: str
    pay_token: str


class PaymentRequired(DomainError):
    """The code is right, but its parcels are not paid yet: no door opens."""

    code = "payment_required"
    status = 402

    def __init__(self, due: tuple[Due, ...]) -> None:
        total = ", ".join(shown(d.amount_cents, d.currency) for d in due)
        super().__init__(
            f"Please pay {total} first: by the link in your message, the QR code on the "
            "station's screen, or at the card terminal. The door opens once it is paid."
        )
        self.due = due


OWED_BACK = (
    "an earlier payment of this parcel must be handed back first (staff were alerted): "
    "it cannot be paid again until then"
)


class PaymentBusy(DomainError):
    code = "payment_busy"
    status = 409


class NothingToPay(DomainError):
    code = "nothing_to_pay"
    status = 409
