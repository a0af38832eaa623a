"""A parcel described on a screen's form (the courier's, the shop's click & collect),
checked by the API's own schema so both screens and the API accept the same input."""

from __future__ import annotations

from pydantic import ValidationError

from api.schemas import Dimensions, Language, ParcelIn
from locker.layout import Layout
from locker.types import ColdKind, SizeClass


def cold_kinds(layout: Layout) -> list[str]:
    """The cold kinds the station's compartments offer (a form asks only for those)."""
    kinds = {spec.cold for spec in layout.compartments if spec.cold is not None}
    return [kind.value for kind in ColdKind if kind in kinds]


class FormProblem(ValueError):
    """What is wrong with the form, one ``field: reason`` per problem."""


def _said(where: tuple[object, ...], what: str) -> str:
    what = what.removeprefix("Value error, ")
    return f"{'.'.join(str(p) for p in where)}: {what}" if where else what


def parcel_from_form(
    *,
    tracking_number: str,
    recipient_name: str,
    email: str = "",
    phone: str = "",
    size: str = "",
    dimensions_mm: tuple[int | None, int | None, int | None] = (None, None, None),
    language: Language = "en",
    recipient_choice: str = "",
    cold: str = "",
) -> ParcelIn:
    """Blank fields are absent ones; the dimensions count only when all three are given.

    ``recipient_choice`` is the courier's pick among the directory's matches: a person's
    id, "unknown" (none of them), or blank (no directory search: typed by hand)."""
    width, height, depth = dimensions_mm
    choice = recipient_choice.strip()
    if choice and choice != "unknown" and not (choice.isdigit() and 0 < int(choice) < 2**63):
        raise FormProblem("recipient: choose a person of the list, or none of them")
    if cold and cold not in set(ColdKind):
        raise FormProblem("cold: chilled, frozen, or none")
    try:
        return ParcelIn(
            tracking_number=tracking_number.strip(),
            recipient_name=recipient_name.strip(),
            recipient_email=email.strip() or None,
            recipient_phone=phone.strip() or None,
            size=SizeClass(size) if size else None,
            dimensions=Dimensions(width_mm=width, height_mm=height, depth_mm=depth)
            if width and height and depth
            else None,
            recipient_language=language,
            recipient_id=int(choice) if choice.isdigit() else None,
            recipient_unknown=choice == "unknown",
            cold=ColdKind(cold) if cold else None,
        )
    except ValidationError as exc:
        raise FormProblem("; ".join(_said(e["loc"], e["msg"]) for e in exc.errors())) from exc
    except ValueError as exc:  # an unknown size class
        raise FormProblem(f"size: {exc}") from exc
