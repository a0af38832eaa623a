"""The screens' home page (where each screen is) and the icon at its default place."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.screens.render import STATIC_DIR, render

home = APIRouter(include_in_schema=False)


@home.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """Where each screen is."""
    return render(request, "index.html", simulated=request.app.state.ctx.sim is not None)


@home.get("/favicon.ico")
def favicon() -> FileResponse:
    """For browsers and pages (the API docs) that ask the default place for the icon."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")
