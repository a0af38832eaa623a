"""The sign-in and sign-out routes of a screen (the courier's, the maintenance one).

No ``from __future__ import annotations`` here: the routes are made inside a function,
and FastAPI must see their annotations as objects, not as strings naming locals."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.context import StationContext, context
from api.schemas import PlainText
from api.screens.sessions import first_password_form, screen_role, sign_in_form, signed_out
from locker.people.identity import Principal
from locker.types import Role

Field = Annotated[str, Form(max_length=200)]  # passwords: taken as typed
Name = Annotated[PlainText, Form(max_length=200)]
Ctx = Annotated[StationContext, Depends(context)]


def add_sign_in_routes(router: APIRouter, *, home: str, title_key: str, role: Role) -> None:
    """POST <home>/sign-in (the form), POST <home>/first-password (a first sign-in's own
    password) and POST <home>/sign-out on the screen's router."""

    async def sign_in(
        request: Request,
        ctx: Ctx,
        name: Name = "",
        password: Field = "",
        new_password: Field = "",
    ) -> Response:
        return await sign_in_form(
            request,
            ctx,
            home=home,
            title_key=title_key,
            roles=(role,),
            name=name,
            password=password,
            new_password=new_password,
        )

    async def first_password(
        request: Request,
        ctx: Ctx,
        name: Name = "",
        ticket: Annotated[str, Form(max_length=300)] = "",
        new_password: Field = "",
        new_password_again: Field = "",
    ) -> Response:
        return await first_password_form(
            request,
            ctx,
            home=home,
            title_key=title_key,
            roles=(role,),
            name=name,
            ticket=ticket,
            new_password=new_password,
            new_password_again=new_password_again,
        )

    def sign_out(
        request: Request,
        ctx: Ctx,
        who: Annotated[Principal, Depends(screen_role(home, role))],
    ) -> Response:
        return signed_out(request, ctx, home)

    router.add_api_route("/sign-in", sign_in, methods=["POST"])
    router.add_api_route("/first-password", first_password, methods=["POST"])
    router.add_api_route("/sign-out", sign_out, methods=["POST"])
