"""Amounts due: integer cents with a currency. Anything else is refused, clearly."""

from __future__ import annotations

import re

from locker.errors import DomainError

MAX_CENTS = 1_000_000  # 10 000.00: more than any click & collect order at a locker
CURRENCY = re.compile(r"^[A-Z]{3}$")
DECIMALS = {"JPY": 0, "KRW": 0}  # the rest have two


class AmountInvalid(DomainError):
    code = "amount_invalid"
    status = 422


def cents(value: object, *, limit: int = MAX_CENTS) -> int:
    """An amount due in integer cents: 0 (nothing due) up to ``limit``; a float, a text,
    a bool, a negative or an absurd amount raises :class:`AmountInvalid`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountInvalid(
            f"amount_due must be a whole number of cents (e.g. 2040 for 20.40), not {value!r}"
        )
    if value < 0:
        raise AmountInvalid(f"amount_due cannot be negative ({value})")
    if value > limit:
        raise AmountInvalid(f"amount_due {value} is more than this station takes ({limit} cents)")
    return value


TYPED = re.compile(r"^(\d{1,7})(?:[.,](\d{1,2}))?$")


def from_text(text: str) -> int:
    """What staff type in a form, ``20.40`` or ``20,40`` (or ``20``), in cents; blank: 0."""
    text = text.strip()
    if not text:
        return 0
    match = TYPED.fullmatch(text)
    if match is None:
        raise AmountInvalid(f"{text!r} is not an amount (e.g. 20.40)")
    whole, part = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return cents(int(whole) * 100 + int(part))


def currency(value: str) -> str:
    code = value.strip().upper()
    if CURRENCY.fullmatch(code) is None:
        raise AmountInvalid(f"currency must be three letters (ISO 4217), not {value!r}")
    return code


def shown(amount_cents: int, currency_code: str, language: str = "en") -> str:
    """For people: ``EUR 20.40`` in English, ``20,40 EUR`` in German."""
    places = DECIMALS.get(currency_code, 2)
    whole, part = divmod(amount_cents, 10**places)
    number = f"{whole:,}" + (f".{part:0{places}d}" if places else "")
    if language == "de":
        number = number.replace(",", "\u202f").replace(".", ",")
        return f"{number} {currency_code}"
    return f"{currency_code} {number}"
