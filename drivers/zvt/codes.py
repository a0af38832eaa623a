"""What the terminal's numbers mean, in words for the kiosk and the log.

Intermediate status (``04 FF``) codes become the text the kiosk shows; result codes
(bitmap ``27``, an abort's ``06 1E`` and a negative acknowledgement ``84 xx``) become the
reason given. Only the codes a payment at a kiosk meets are named; any other is shown by
its number.
"""

from __future__ import annotations

APPROVED = 0x00
TIMEOUT_OR_ABORT = 0x6C  # abort via timeout or the abort key: the customer walked away
NOT_POSSIBLE = 0x83  # function not possible
# A terminal in another transaction answers a command with one of these.
BUSY = frozenset({0x9C, 0xA0})

INTERMEDIATE: dict[int, str] = {
    0x00: "Please confirm the amount",
    0x01: "Please watch the PIN pad",
    0x02: "Please watch the PIN pad",
    0x03: "Not accepted",
    0x04: "Waiting for the card issuer",
    0x07: "Card not admitted",
    0x08: "Card unknown",
    0x09: "Card expired",
    0x0A: "Insert card",
    0x0B: "Please remove the card",
    0x0C: "Card not readable",
    0x0D: "Processing error",
    0x0E: "Please wait",
    0x10: "Invalid card",
    0x12: "System malfunction",
    0x13: "Payment not possible",
    0x14: "Credit not sufficient",
    0x15: "Incorrect PIN",
    0x17: "Please wait",
    0x18: "PIN try limit exceeded",
    0x1D: "Declined",
    0x41: "Please insert or tap the card",
}

RESULTS: dict[int, str] = {
    APPROVED: "approved",
    0x05: "declined by the card issuer",
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x6B: "function deactivated (terminal not registered)",
    TIMEOUT_OR_ABORT: "aborted (timeout or abort key)",
    0x6E: "card in the blocked list",
    0x6F: "wrong currency",
    0x71: "credit not sufficient",
    0x78: "card expired",
    0x7A: "card unknown",
    0x7D: "communication error",
    NOT_POSSIBLE: "function not possible",
    0x9A: "ZVT protocol error",
    0x9C: "please wait (terminal busy)",
    0xA0: "receiver not ready (terminal busy)",
    0xA3: "no connection to the card issuer",
    0xB4: "already reversed",
    0xB5: "reversal not possible",
    0xC3: "maximum amount exceeded",
    0xFF: "system error",
}


def intermediate_text(code: int) -> str:
    return INTERMEDIATE.get(code, f"Terminal status {code:02X}")


def result_text(code: int) -> str:
    return RESULTS.get(code, f"result code {code:02X}")
