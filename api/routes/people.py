"""A person's data (issue 17): staff export everything the station holds about one
person, or erase it once none of their parcels is waiting. A directory entry by its id;
a person not in the directory by e-mail address and/or phone number (in the body, so
that no address ends up in a URL or an access log)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from fastapi import APIRouter, Path
from pydantic import ConfigDict, Field, model_validator

from api.deferred import Model
from api.openapi_errors import problem_responses
from api.schemas import MAX_ID
from api.security import Ctx, Staff
from locker.services import privacy

router = APIRouter(prefix="/api/v1", tags=["people"], responses=problem_responses(404, 409))
RecipientId = Annotated[int, Path(ge=1, le=MAX_ID)]


class PersonIn(Model):
    """Whom: an e-mail address, a phone number, or both (as typed on their parcels)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: str | None = Field(default=None, min_length=3, max_length=254)
    phone: str | None = Field(default=None, min_length=3, max_length=32)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if not (self.email or self.phone):
            raise ValueError("give the person's e-mail address or phone number")
        return self


class ErasedOut(Model):
    pseudonym: str = Field(description="what the station calls the person from now on")
    recipient_id: int | None = Field(description="the directory entry removed, if any")
    parcel_ids: list[int] = Field(description="their parcels, now without personal data")


def _erased(done: privacy.Erased) -> ErasedOut:
    return ErasedOut(
        pseudonym=done.pseudonym, recipient_id=done.recipient_id, parcel_ids=list(done.parcel_ids)
    )


@router.get("/recipients/{recipient_id}/export")
def export_recipient(recipient_id: RecipientId, who: Staff, ctx: Ctx) -> dict[str, Any]:
    """Everything the station holds about a directory entry's person: the entry, their
    parcels (linked, or with the same e-mail address or phone), the audit rows and the
    messages of those parcels. Audited."""
    person = privacy.Person(recipient_id=recipient_id)
    return privacy.export(ctx.station, person, actor=who.actor)


@router.delete("/recipients/{recipient_id}")
def erase_recipient(recipient_id: RecipientId, who: Staff, ctx: Ctx) -> ErasedOut:
    """Erase the person: the directory entry, and the personal data on their past parcels
    (a pseudonym is left; the audit log keeps its rows). Refused with
    ``person_has_parcels_waiting`` (409) while one of their parcels has not left."""
    person = privacy.Person(recipient_id=recipient_id)
    return _erased(privacy.erase(ctx.station, person, actor=who.actor))


@router.post("/people/export")
def export_person(body: PersonIn, who: Staff, ctx: Ctx) -> dict[str, Any]:
    """As ``GET /recipients/{id}/export``, for a person found by e-mail address or phone."""
    person = privacy.Person(email=body.email, phone=body.phone)
    return privacy.export(ctx.station, person, actor=who.actor)


@router.post("/people/erase")
def erase_person(body: PersonIn, who: Staff, ctx: Ctx) -> ErasedOut:
    """As ``DELETE /recipients/{id}``, for a person found by e-mail address or phone."""
    person = privacy.Person(email=body.email, phone=body.phone)
    return _erased(privacy.erase(ctx.station, person, actor=who.actor))
