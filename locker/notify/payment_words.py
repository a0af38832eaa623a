"""What messages say of money (issue 28): the receipt after paying, and the line that tells
a recipient what is due and where to pay it (in the message with the code, and reminders)."""

from __future__ import annotations

from collections.abc import Mapping

# Fields: {name} {tracking} {carrier} {station} {amount} {method} {payment_id} {provider_ref}
# {receipt} {paid_at}
RECEIPT: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "parcel.paid": (
        (
            "Receipt: {amount} for your parcel {tracking}",
            "Hello {name},\n\nthank you for your payment.\n\nAmount: {amount}\nShop: {carrier}"
            "\nParcel: {tracking}\nPaid: {paid_at} ({method})\nPayment: {payment_id} "
            "{provider_ref}{receipt}\n\nCollect your parcel at {station} with your code.",
        ),
        (
            "Beleg: {amount} für Ihr Paket {tracking}",
            "Hallo {name},\n\nvielen Dank für Ihre Zahlung.\n\nBetrag: {amount}\nGeschäft: "
            "{carrier}\nPaket: {tracking}\nBezahlt: {paid_at} ({method})\nZahlung: {payment_id} "
            "{provider_ref}{receipt}\n\nHolen Sie Ihr Paket mit Ihrem Code an der {station} ab.",
        ),
    ),
}
RECEIPT_NUMBER = ("\nReceipt number: {n}", "\nBelegnummer: {n}")
METHODS = {
    "link": ("online", "online"),
    "card": ("card at the station", "Karte an der Station"),
    "cash": ("cash", "bar"),
}
PAY_LINE = (
    "\n\nTo pay before the door opens: {amount}. Pay now: {url}\n(or at the station)",
    "\n\nVor dem Öffnen zu zahlen: {amount}. Jetzt bezahlen: {url}\n(oder an der Station)",
)
