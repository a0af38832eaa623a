"""Rendering the screens: Jinja2 templates in the visitor's language, and the station's
front drawn from its layout."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.screens.i18n import Words
from common.words import LANGUAGE_NAMES, LANGUAGES, pick_language
from locker.codes import group_pin
from locker.front import Tile, drawing, locate
from locker.layout import Layout

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
LANG_COOKIE = "locker_lang"
LANG_COOKIE_DAYS = 365


@cache
def templates() -> Jinja2Templates:
    """The screens' templates, built on the first page shown: a station that serves only
    its API (or has not been asked for a page yet) does not load Jinja2."""
    from fastapi.templating import Jinja2Templates

    built = Jinja2Templates(directory=PACKAGE / "templates")
    built.env.filters["pin"] = group_pin  # a PIN as people read it: 063 585 8597
    return built


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _moment(value: datetime | None) -> str:
    """A stored moment as the station's people read it (UTC, to the minute)."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """``template`` with the visitor's words; a ``?lang=`` choice is remembered in a cookie."""
    lang = language(request)
    response = templates().TemplateResponse(
        request,
        template,
        {
            "t": Words(lang),
            "lang": lang,
            "languages": LANGUAGE_NAMES,
            "moment": _moment,
            **values,
        },
        status_code=status,
        headers=headers,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", path="/"
        )
    return response


@dataclass(frozen=True)
class Door:
    """One compartment on a drawing of the front: where it is and how to show it."""

    tile: Tile
    css: str  # state classes, e.g. "state-free" or "state-occupied busy"
    label: str  # what a screen reader says, and the tooltip

    @property
    def id(self) -> int:
        return self.tile.compartment_id

    @property
    def style(self) -> str:
        t = self.tile
        return (
            f"left:{t.x * 100:.3f}%;top:{t.y * 100:.3f}%;"
            f"width:{t.width * 100:.3f}%;height:{t.height * 100:.3f}%"
        )


@dataclass(frozen=True)
class Front:
    """The drawing a template shows: its proportions and its doors."""

    aspect: str  # CSS aspect-ratio, "width / height"
    doors: list[Door]

    def __iter__(self) -> Iterator[Door]:
        return iter(self.doors)


def doors(layout: Layout, css: Mapping[int, str], labels: Mapping[int, str]) -> Front:
    drawn = drawing(layout)
    return Front(
        aspect=f"{drawn.width_mm} / {drawn.height_mm}",
        doors=[
            Door(tile=t, css=css.get(t.compartment_id, ""), label=labels.get(t.compartment_id, ""))
            for t in drawn.tiles
        ],
    )


def where(layout: Layout, words: Words, compartment_id: int) -> str:
    return words.where(locate(layout, compartment_id))


def marked_front(layout: Layout, words: Words, marks: Mapping[int, str]) -> Front:
    """The front with some doors marked (CSS ``mark-<mark>``, e.g. open or failed) and
    named for screen readers; the others are drawn plain."""
    return doors(
        layout,
        {cid: f"mark-{mark}" for cid, mark in marks.items()},
        {cid: words("compartment_n", n=cid) for cid in marks},
    )


def door_shown(layout: Layout, words: Words, compartment_id: int) -> dict[str, Any]:
    """For a panel about one open door: where it is in words, and the front with it marked."""
    return {
        "where": where(layout, words, compartment_id),
        "doors": marked_front(layout, words, {compartment_id: "open"}),
    }
