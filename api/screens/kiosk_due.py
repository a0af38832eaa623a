"""What the kiosk shows for a code whose parcels are unpaid: each amount, the QR code of the
same pay link as in the customer's message, and the ways on ("I have paid", and "pay by
card here" when the kiosk has a terminal)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import Request

from api.context import StationContext
from api.screens.i18n import Words
from api.screens.render import language
from locker.notify import qr_images
from locker.payments.amounts import shown
from locker.payments.due import PaymentRequired


def owed_values(
    request: Request, ctx: StationContext, owed: PaymentRequired, code: str
) -> dict[str, Any]:
    words = Words(language(request))
    base = ctx.settings.public_url.rstrip("/")
    due = []
    for d in owed.due:
        url = f"{base}/pay/{d.pay_token}"
        image = base64.b64encode(qr_images.png(url)).decode()
        due.append(
            {
                "parcel_id": d.parcel_id,
                "amount": shown(d.amount_cents, d.currency, words.lang),
                "url": url,
                "qr": f"data:image/png;base64,{image}",
            }
        )
    return {
        "problem": "payment_required",
        "due": due,
        "code": code,
        "can_card": ctx.money.terminal is not None,
        "status": 402,
    }
