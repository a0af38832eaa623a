"""Work the station does by itself while it serves: watch the doors, expire what is due,
remind recipients, deliver the outbox (and remove what is old in it), erase the personal
data of parcels that left long enough ago, and back up the database.

Each job runs in a worker thread (the services block on the serial line and the
database) on its own interval, inside the app's lifespan; a failing round is logged and
the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from fastapi.concurrency import run_in_threadpool

from api.context import StationContext
from locker.cold.watch import ColdWatch
from locker.errors import DomainError
from locker.payments.retention import drop_old_payments
from locker.runtime.journal import fields
from locker.runtime.systemd import Heartbeats
from locker.services import privacy, staff
from locker.services.intake import Stored
from locker.services.reconcile import reconcile
from locker.services.reminders import remind
from locker.services.watch import DoorWatch
from locker.station import as_compartment_id

# An opening takes about a second; an intent this old lost its outcome commit.
STALE_INTENT = timedelta(minutes=1)
BACKUP_CHECK_S = 60.0  # how often the backup job asks whether one is due
PRUNE_EVERY_S = 3600.0  # how often old notifications are removed

_LOGGER = logging.getLogger(__name__)


DOOR_WATCHER = "door watcher"  # its heartbeat, for the systemd watchdog


async def _every(
    interval_s: float,
    job: Callable[[], None],
    stop: asyncio.Event,
    went_round: Callable[[], None] | None = None,
) -> None:
    """``went_round`` after each round, failed or not: the loop itself is alive."""
    while not stop.is_set():
        try:
            await run_in_threadpool(job)
        except Exception:  # one bad round must not end the job
            _LOGGER.exception("background job %s failed", getattr(job, "__name__", job))
        if went_round is not None:
            went_round()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


def jobs(ctx: StationContext) -> list[tuple[float, Callable[[], None]]]:
    def hand_over(stored: Stored) -> None:
        if stored.code is not None:  # a return has no code; nobody waits for one
            ctx.handover.put(stored)

    watch = DoorWatch(ctx.station, timedelta(seconds=ctx.settings.door_left_open_s), hand_over)
    cold = ColdWatch(ctx.station, timedelta(seconds=ctx.settings.cold_read_s))

    def watch_doors() -> None:
        for change in cold.tick():  # the cold groups' thermometers, every cold_read_s
            level = logging.INFO if change.after.takes_parcels else logging.WARNING
            _LOGGER.log(
                level,
                "cold group %s: %s -> %s",
                change.group,
                change.before.value,
                change.after.value,
            )
        report = watch.tick()
        layout = ctx.station.layout
        ctx.silent_buses = {layout.compartment(cid).bus for cid in report.unread}
        ctx.door_readings = report.readings
        for stored in report.stored:
            _LOGGER.info(
                "parcel %s stored in compartment %s",
                stored.parcel_id,
                stored.compartment_id,
                extra=fields(
                    compartment=stored.compartment_id,
                    parcel=stored.parcel_id,
                    bus=layout.compartment(as_compartment_id(stored.compartment_id)).bus,
                ),
            )
        for cid in report.left_open:
            _LOGGER.warning(
                "compartment %s: door left open",
                cid,
                extra=fields(compartment=cid, bus=layout.compartment(as_compartment_id(cid)).bus),
            )

    def notify() -> None:
        report = ctx.notifier.run_once()
        if report.sent or report.failed or report.skipped:
            _LOGGER.info(
                "notifications: %s sent, %s failed (%s given up), %s skipped",
                report.sent,
                report.failed,
                report.gave_up,
                report.skipped,
            )

    def expire() -> None:
        config = ctx.notifier.config
        remind(
            ctx.station,
            remind_before=config.remind_before,
            last_call_before=config.last_call_before,
        )
        report = staff.expire(ctx.station)
        if report.expired_parcels or report.released_reservations:
            _LOGGER.info(
                "expired parcels %s, released reservations %s",
                report.expired_parcels,
                report.released_reservations,
            )
        if report.lapsed_announcements:
            _LOGGER.info("announcements lapsed: %s", report.lapsed_announcements)

    def settle_stale_intents() -> None:
        for settled in reconcile(ctx.station, older_than=STALE_INTENT):
            _LOGGER.warning(
                "door operation %s on compartment %s was left without an outcome: %s",
                settled.op_id,
                settled.compartment_id,
                settled.verdict,
                extra=fields(compartment=settled.compartment_id),
            )

    def prune_outbox() -> None:
        keep_for = timedelta(days=ctx.settings.outbox_retention_days)
        removed = ctx.notifier.prune(keep_for)
        if removed:
            _LOGGER.info("notifications: %s old event(s) removed", removed)

    def erase_personal_data() -> None:  # the retention of personal data (issue 17)
        keep_for = timedelta(days=ctx.settings.retention_days)
        report = privacy.erase_old_personal_data(ctx.station, keep_for=keep_for)
        if report.parcels:
            _LOGGER.info(
                "personal data of %s parcel(s) that left the station erased", len(report.parcels)
            )
        books = timedelta(days=ctx.settings.payment_retention_days)
        dropped = drop_old_payments(ctx.station, keep_for=books)
        if dropped:
            _LOGGER.info("payments: %s older than the books' retention deleted", dropped)

    def check_payments() -> None:  # a lost webhook must not leave a paid customer waiting
        try:
            changed = ctx.money.sweep()
        except DomainError as exc:
            _LOGGER.warning("payments not checked: %s", exc)
            return
        if changed:
            _LOGGER.info("payments: %s settled by asking the provider", changed)

    def back_up() -> None:  # logs what it wrote and removed; a failure alerts staff
        ctx.backups.tick()

    return [
        (ctx.settings.poll_s, watch_doors),
        (ctx.settings.expiry_every_s, expire),
        (ctx.settings.notify_every_s, notify),
        (STALE_INTENT.total_seconds() / 2, settle_stale_intents),
        (BACKUP_CHECK_S, back_up),
        (PRUNE_EVERY_S, prune_outbox),
        (PRUNE_EVERY_S, erase_personal_data),
        (ctx.settings.payment_check_every_s, check_payments),
    ]


class Background:
    """The jobs of one app, started and stopped by its lifespan."""

    def __init__(self, ctx: StationContext, heartbeats: Heartbeats | None = None) -> None:
        self._ctx = ctx
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeats = heartbeats  # the door watcher beats after each round

    def start(self) -> None:
        beats = self._heartbeats
        self._tasks = []
        for interval, job in jobs(self._ctx):
            went_round = None
            if beats is not None and job.__name__ == "watch_doors":
                beats.expect(DOOR_WATCHER)
                went_round = partial(beats.beat, DOOR_WATCHER)
            task = _every(interval, job, self._stop, went_round)
            self._tasks.append(asyncio.create_task(task, name=job.__name__))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
