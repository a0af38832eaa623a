"""A person of the directory as staff give them, and the checks every field must pass.

Each problem is named with its field, in English and as a stable ``reason`` the screens say
in their own language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from locker.errors import DomainError

NOTIFY_BY = ("mail", "sms", "both")
LANGUAGES = ("en", "de")
MAX_NAME = 200
MAX_UNIT = 40
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_NOTE = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()/-]{3,}$")


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: in English (``message``), and as a stable ``reason``
    (with ``n``, a number or name it mentions) for the screens to say in their language."""

    field: str
    message: str
    reason: str = ""
    n: str = ""


class RecipientInvalid(DomainError):
    """A person's fields that do not pass (each problem named with its field)."""

    code = "recipient_invalid"
    status = 422

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Person:
    """A person's fields as staff give them (before they are checked)."""

    name: str
    unit: str = ""
    email: str | None = None
    phone: str | None = None
    language: str = "en"
    needs_accessible: bool = False
    notify_by: str = "mail"
    staff_note: str = ""


def trimmed(value: str | None) -> str:
    """A field as typed, without the blanks around it (None: empty)."""
    return (value or "").strip()


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check(person: Person) -> Person:
    """The person with its fields trimmed, or :class:`RecipientInvalid` naming every problem."""
    name, unit, note = trimmed(person.name), trimmed(person.unit), trimmed(person.staff_note)
    email = trimmed(person.email) or None
    phone = trimmed(person.phone) or None
    problems: list[FieldProblem] = []

    def need(ok: bool, where: str, message: str, reason: str, n: object = "") -> None:
        if not ok:
            problems.append(FieldProblem(where, message, reason, str(n)))

    need(bool(name), "name", "a name is needed", "required")
    need(len(name) <= MAX_NAME, "name", f"at most {MAX_NAME} characters", "too_long", MAX_NAME)
    need(len(unit) <= MAX_UNIT, "unit", f"at most {MAX_UNIT} characters", "too_long", MAX_UNIT)
    need(
        len(note) <= MAX_NOTE, "staff_note", f"at most {MAX_NOTE} characters", "too_long", MAX_NOTE
    )
    for where, value in (("name", name), ("unit", unit)):
        need(not _has_control(value), where, "no control characters", "control")
    if email is not None:
        need(
            len(email) <= MAX_EMAIL,
            "email",
            f"at most {MAX_EMAIL} characters",
            "too_long",
            MAX_EMAIL,
        )
        need(
            EMAIL.match(email) is not None,
            "email",
            "not an email address (name@example.org)",
            "not_email",
        )
    if phone is not None:
        need(
            len(phone) <= MAX_PHONE,
            "phone",
            f"at most {MAX_PHONE} characters",
            "too_long",
            MAX_PHONE,
        )
        need(PHONE.match(phone) is not None, "phone", "digits, spaces, + ( ) / - only", "not_phone")
    need(person.language in LANGUAGES, "language", "en or de", "language")
    if person.notify_by not in NOTIFY_BY:
        problems.append(FieldProblem("notify_by", "mail, sms or both", "notify_by"))
    else:
        by = person.notify_by
        if by in ("mail", "both"):
            need(email is not None, "email", f"needed to tell them by {by}", "needed_for", by)
        if by in ("sms", "both"):
            need(phone is not None, "phone", f"needed to tell them by {by}", "needed_for", by)
    if problems:
        raise RecipientInvalid(problems)
    return replace(person, name=name, unit=unit, email=email, phone=phone, staff_note=note)
