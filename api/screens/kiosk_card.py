"""The kiosk's "pay by card here": the terminal takes the amount while the kiosk shows its
texts ("Insert card", "PIN please"), then the door opens (pay, open, confirm: the cashier
opens only after the approval is stored, and gives the money back if no door opens).

The payment runs in a thread of its own; the kiosk asks for its progress every half
second. Only the kiosk that started a payment sees it."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from api.context import StationContext
from api.schemas import PlainText
from api.screens.i18n import Words
from api.screens.kiosk import doors_told, kiosk_values
from api.screens.render import language, render
from api.security import Ctx, kiosk_terminal
from locker.errors import DomainError
from locker.payments import ledger
from locker.payments.amounts import shown
from locker.payments.due import PaymentRequired
from locker.payments.records import Method, PayState
from locker.services.pickup import Collection

router = APIRouter(include_in_schema=False)
_LOGGER = logging.getLogger(__name__)
POLL_MS = 500
KEEP_S = 300  # a finished payment's answer is kept this long for its kiosk


@dataclass
class CardJob:
    terminal: str
    code: str = ""
    why: str = ""  # the terminal's reason when the payment did not go through
    back: str = ""  # no door opened after paying: "reversed", or "staff" (by hand)
    cents: int = 0  # what the terminal is asked for, in all
    currency: str = "EUR"
    texts: list[str] = field(default_factory=list)
    state: PayState | None = None
    collection: Collection | None = None
    problem: str = ""
    done_at: float | None = None


_JOBS: dict[str, CardJob] = {}
_LOCK = threading.Lock()


def _run(ctx: StationContext, job: CardJob, code: str, parcel_ids: list[int]) -> None:
    try:
        for pid in parcel_ids:
            job.state = ctx.money.pay_by_card(pid, actor=job.terminal, on_text=job.texts.append)
            if job.state is not PayState.APPROVED:
                job.why = _why(ctx, pid)
                return
        job.collection = ctx.money.collect(code=code, terminal=job.terminal)
        if not job.collection.all_opened:  # pay, open, confirm: the money went back (or not)
            job.back = _given_back(ctx, parcel_ids)
    except DomainError as exc:
        job.problem = exc.message
    except Exception:  # the kiosk must hear an end, whatever failed
        _LOGGER.exception("the kiosk's card payment failed")
        job.problem = "the payment could not be completed; staff have the details"
    finally:
        job.done_at = time.monotonic()


def _given_back(ctx: StationContext, parcel_ids: list[int]) -> str:
    """After doors that did not open: "reversed" when the card payments went back at the
    terminal, "staff" when one could not (staff have the alert to refund it by hand)."""
    with ctx.station.db.read() as session:
        states = {
            p.state
            for pid in parcel_ids
            if (p := ledger.latest(session, pid, Method.CARD)) is not None
        }
    if PayState.REFUND_FAILED in states:
        return "staff"
    return "reversed" if PayState.REVERSED in states else ""


def _why(ctx: StationContext, parcel_id: int) -> str:
    with ctx.station.db.read() as session:
        payment = ledger.latest(session, parcel_id, Method.CARD)
        return payment.outcome_text if payment is not None else ""


def _forget_old() -> None:
    now = time.monotonic()
    with _LOCK:
        for key in [k for k, j in _JOBS.items() if j.done_at and now - j.done_at > KEEP_S]:
            del _JOBS[key]


@router.post("/kiosk/pay-card", response_class=HTMLResponse)
def start(
    request: Request, ctx: Ctx, code: Annotated[PlainText, Form(max_length=200)] = ""
) -> HTMLResponse:
    terminal = kiosk_terminal(request, ctx)
    code = "".join(code.split())
    try:
        result = ctx.money.collect(code=code, terminal=terminal)
    except PaymentRequired as owed:
        if ctx.money.terminal is None:
            return _answer(request, ctx, problem=Words(language(request))("staff_no_terminal"))
        _forget_old()
        job_id = secrets.token_urlsafe(16)
        job = CardJob(terminal, code=code, cents=sum(d.amount_cents for d in owed.due))
        job.currency = owed.due[0].currency if owed.due else ctx.settings.payment_currency
        with _LOCK:
            _JOBS[job_id] = job
        parcels = [d.parcel_id for d in owed.due]
        worker = threading.Thread(
            target=_run, args=(ctx, job, code, parcels), name="kiosk-card", daemon=True
        )
        worker.start()
        return _progress(request, ctx, job_id, job)
    except DomainError as exc:
        return _answer(request, ctx, problem=Words(language(request)).problem(exc))
    return _answer(request, ctx, **doors_told(request, ctx, result.doors))  # paid meanwhile


@router.get("/kiosk/pay-card/{job_id}", response_class=HTMLResponse)
def progress(
    job_id: Annotated[str, Path(max_length=40)], request: Request, ctx: Ctx
) -> HTMLResponse:
    with _LOCK:
        job = _JOBS.get(job_id)
    if job is None or job.terminal != kiosk_terminal(request, ctx):
        return _answer(request, ctx, problem=Words(language(request))("pay_unknown"))
    if job.done_at is None:
        return _progress(request, ctx, job_id, job)
    words = Words(language(request))
    if job.collection is not None:
        told = doors_told(request, ctx, job.collection.doors)
        return _answer(request, ctx, card_back=job.back, **told)
    if job.problem:
        return _answer(request, ctx, problem=job.problem, code=job.code)
    if job.state is PayState.UNKNOWN:
        return _answer(request, ctx, problem=words("pay_card_unknown"), code=job.code)
    why = job.why or (job.state.value if job.state else "")
    return _answer(request, ctx, problem=words("pay_card_declined", why=why), code=job.code)


def _progress(request: Request, ctx: Ctx, job_id: str, job: CardJob) -> HTMLResponse:
    return render(
        request,
        "kiosk_card.html",
        job_id=job_id,
        text=Words(language(request)).terminal(job.texts[-1]) if job.texts else "",
        amount=shown(job.cents, job.currency, language(request)),
        poll_ms=POLL_MS,
        **kiosk_values(request, ctx),
    )


def _answer(request: Request, ctx: Ctx, **values: Any) -> HTMLResponse:
    marks = values.pop("marks", None)
    status = values.pop("status", 200)
    problem = values.pop("problem", "")
    return render(
        request,
        "kiosk_result.html",
        status=status if not problem else 200,
        problem="card" if problem else "",
        detail=problem,
        **values,
        **kiosk_values(request, ctx, marks),
    )
