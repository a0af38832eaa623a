"""The sign-in and sign-out routes of a screen (the courier's, the maintenance one).

No ``from __future__ import annotations`` here: the routes are made inside a function,
and FastAPI must see their annotations as objects, not as strings naming locals."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.context import StationContext, context
from api.screens.sessions import screen_role, sign_in_form, signed_out
from locker.accounts import Principal
from locker.types import Role

Field = Annotated[str, Form(max_length=200)]
Ctx = Annotated[StationContext, Depends(context)]


def add_sign_in_routes(router: APIRouter, *, home: str, title_key: str, role: Role) -> None:
    """POST <home>/sign-in (the form) and POST <home>/sign-out on the screen's router."""

    async def sign_in(
        request: Request,
        ctx: Ctx,
        name: Field = "",
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

    def sign_out(
        request: Request,
        ctx: Ctx,
        who: Annotated[Principal, Depends(screen_role(home, role))],
    ) -> Response:
        return signed_out(request, ctx, home)

    router.add_api_route("/sign-in", sign_in, methods=["POST"])
    router.add_api_route("/sign-out", sign_out, methods=["POST"])
