"""The kiosk: the station's own touch screen, where customers collect with a PIN or a
scanned QR code. No account; attempt limits as for the API's /collect."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.routes.customers import arrival, collect_counted
from api.schemas import PlainText
from api.screens.i18n import Words
from api.screens.kiosk_due import owed_values
from api.screens.render import language, marked_front, render, where
from api.security import KIOSK_COOKIE, Ctx, kiosk_terminal
from locker.errors import CodeInvalid, DomainError, TooManyAttempts
from locker.notify.messages import when
from locker.payments.due import PaymentRequired
from locker.people import kiosk_devices
from locker.services import returns
from locker.services.doors import DoorResult
from locker.services.extension import extend_by_code
from locker.services.holds import hold_by_code
from locker.store import queries
from locker.types import CompartmentState, DoorPurpose

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class OpenedDoor:
    id: int
    where: str


def kiosk_values(
    request: Request, ctx: Ctx, highlight: dict[int, str] | None = None
) -> dict[str, Any]:
    words = Words(language(request))
    marks = highlight or {}
    return {
        "doors": marked_front(ctx.station.layout, words, marks),
        "contact": ctx.settings.staff_contact or words("kiosk_ask_in_shop"),
        "staff_contact": ctx.settings.staff_contact,
        "reset_s": ctx.settings.kiosk_reset_s,
        "clear_s": ctx.settings.kiosk_clear_s,
    }


PAIRED_FOR_S = 10 * 365 * 24 * 3600  # a paired screen stays paired until staff re-pair it


def _device_name(request: Request, ctx: Ctx) -> str | None:
    terminal = kiosk_terminal(request, ctx)
    return terminal.removeprefix("kiosk:") if terminal.startswith("kiosk:") else None


@router.get("/kiosk", response_class=HTMLResponse)
def kiosk(request: Request, ctx: Ctx) -> HTMLResponse:
    left_open = _left_open(ctx)
    return render(
        request,
        "kiosk.html",
        device=_device_name(request, ctx),
        left_open=left_open,
        idle_s=IDLE_S,
        **kiosk_values(request, ctx, {cid: "open" for cid in left_open}),
    )


@router.get("/kiosk/pair", response_class=HTMLResponse)
def pair_form(request: Request, ctx: Ctx) -> HTMLResponse:
    """Where staff paste a device token to make this browser the station's kiosk."""
    return render(request, "kiosk_pair.html", device=_device_name(request, ctx))


@router.post("/kiosk/pair", response_model=None)
def pair(
    request: Request, ctx: Ctx, token: Annotated[PlainText, Form(max_length=200)] = ""
) -> HTMLResponse | RedirectResponse:
    """A live device token becomes this browser's kiosk cookie; then on to the kiosk."""
    token = token.strip()
    if kiosk_devices.terminal_for_token(ctx.station, token) is None:
        return render(request, "kiosk_pair.html", status=422, device=None, wrong=True)
    response = RedirectResponse("/kiosk", status_code=303)
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=PAIRED_FOR_S,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        path="/kiosk",
    )
    return response


IDLE_S = 3  # how often the resting kiosk looks for a door left open


def _left_open(ctx: Ctx) -> list[int]:
    """Free compartments whose door the watcher last saw standing open: a customer who
    took the parcel and walked away. The resting kiosk asks to close them again (a door
    open for a courier's deposit or for staff is theirs to close)."""
    readings = ctx.door_readings or {}
    if not readings:
        return []
    with ctx.station.db.read() as session:
        views = queries.compartments(session, ctx.station.layout)
    return [
        int(v.spec.id)
        for v in views
        if v.state is CompartmentState.FREE
        and not v.door_busy
        and v.spec.id in readings
        and not readings[v.spec.id].latched
    ]


@router.get("/kiosk/idle", response_class=HTMLResponse)
def idle(request: Request, ctx: Ctx) -> HTMLResponse:
    """The resting picture, after an answer was read (or forgotten after a while), with
    any door a customer left open marked and named."""
    left_open = _left_open(ctx)
    return render(
        request,
        "kiosk_idle.html",
        left_open=left_open,
        idle_s=IDLE_S,
        **kiosk_values(request, ctx, {cid: "open" for cid in left_open}),
    )


Act = Callable[[str], dict[str, Any]]  # a code -> what the answer shows


def _answer_for(
    request: Request, ctx: Ctx, code: str, act: Act, *, again: bool = False
) -> HTMLResponse:
    """The kiosk's answer to a code: the action's, or why nothing happened (no code, a
    wrong one, too many wrong ones, or another refusal in the visitor's language)."""
    code = "".join(code.split())  # scanners and fingers add spaces

    def answer(status: int, **values: Any) -> HTMLResponse:
        marks = values.pop("marks", None)
        return render(
            request,
            "kiosk_result.html",
            status=status,
            **values,
            **kiosk_values(request, ctx, marks),
        )

    if not code:
        return answer(422, problem="empty")
    try:
        values = act(code)
    except PaymentRequired as owed:  # nothing opened: what is due, and how to pay it
        values = owed_values(request, ctx, owed, code)
        return answer(values.pop("status"), again=again, **values)
    except CodeInvalid:
        return answer(404, problem="code_invalid")
    except TooManyAttempts as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        return answer(429, headers=retry, problem="too_many_attempts", wait_s=exc.retry_after)
    except DomainError as exc:
        said = Words(language(request)).problem(exc)
        return answer(exc.status, problem=exc.code, detail=said)
    return answer(values.pop("status", 200), **values)


def doors_told(request: Request, ctx: Ctx, results: Iterable[DoorResult]) -> dict[str, Any]:
    words = Words(language(request))
    layout = ctx.station.layout
    told = [
        (d.opened, OpenedDoor(d.compartment_id, where(layout, words, d.compartment_id)))
        for d in results
    ]
    opened = [door for ok, door in told if ok]
    failed = [door for ok, door in told if not ok]
    marks = {d.id: "open" for d in opened} | {d.id: "failed" for d in failed}
    return {"opened": opened, "failed": failed, "marks": marks, "status": 200 if opened else 503}


@router.post("/kiosk/collect", response_class=HTMLResponse)
def collect(
    request: Request,
    ctx: Ctx,
    t0: Annotated[float, Depends(arrival)],
    code: Annotated[PlainText, Form(max_length=200)] = "",
    again: Annotated[str, Form(max_length=1)] = "",
) -> HTMLResponse:
    """Open the customer's compartments; the answer is the fragment for #result (while
    unpaid: what is due, its QR code, and "I have paid" again with ``again``)."""

    def act(code: str) -> dict[str, Any]:
        return doors_told(
            request, ctx, collect_counted(ctx, code, kiosk_terminal(request, ctx), t0).doors
        )

    return _answer_for(request, ctx, code, act, again=bool(again))


@router.post("/kiosk/extend", response_class=HTMLResponse)
def extend(
    request: Request, ctx: Ctx, code: Annotated[PlainText, Form(max_length=200)] = ""
) -> HTMLResponse:
    """More time for the parcels of a code (nothing opens); once, as by the link."""
    config = ctx.notifier.config

    def act(code: str) -> dict[str, Any]:
        changed = extend_by_code(
            ctx.station,
            code=code,
            terminal=kiosk_terminal(request, ctx),
            by=config.customer_extend,
            limit=config.customer_extensions,
        )
        return {"extended_until": when(max(until for _, until in changed), config)}

    return _answer_for(request, ctx, code, act)


@router.post("/kiosk/hold", response_class=HTMLResponse)
def hold(
    request: Request, ctx: Ctx, code: Annotated[PlainText, Form(max_length=200)] = ""
) -> HTMLResponse:
    """The recipient is away (issue 17): the parcels of the code wait as many more days as
    the shop still allows, with no reminders meanwhile; nothing opens."""
    config = ctx.notifier.config

    def act(code: str) -> dict[str, Any]:
        held = hold_by_code(
            ctx.station,
            code=code,
            terminal=kiosk_terminal(request, ctx),
            days=None,
            max_days=ctx.settings.hold_max_days,
        )
        return {
            "held_until": when(held.held_until, config),
            "extended_until": when(held.deadline, config),
        }

    return _answer_for(request, ctx, code, act)


@router.post("/kiosk/drop-off", response_class=HTMLResponse)
def drop_off(
    request: Request, ctx: Ctx, code: Annotated[PlainText, Form(max_length=200)] = ""
) -> HTMLResponse:
    """A return code: an empty compartment of the right size opens for the parcel; a door
    that does not open is marked faulty and the next one is tried."""

    def act(code: str) -> dict[str, Any]:
        dropped = returns.drop_off(ctx.station, code=code, terminal=kiosk_terminal(request, ctx))
        ctx.metrics.doors(DoorPurpose.DEPOSIT, dropped.doors)
        opened = dropped.opened
        told = doors_told(request, ctx, [opened] if opened else dropped.doors)
        return {**told, "dropping_off": True}

    return _answer_for(request, ctx, code, act)
