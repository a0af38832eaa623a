"""The station's MQTT client to its fleet hub (paho-mqtt, MQTT 5): the adapter between the
broker and :mod:`locker.uplink`, which knows no MQTT.

- **Events up:** read from the outbox after the broker's acknowledged point and published
  with QoS 1, in order, a window at a time. The point moves only when the broker has
  acknowledged (PUBACK) an unbroken run, so after any outage or crash everything from the
  first unconfirmed event is sent again (the hub stores each once, by its number).
- **Presence:** a retained birth message on every connect (with the newest sequence number,
  so the hub sees at once what it misses), and a retained will the broker publishes if the
  station drops without saying goodbye.
- **Commands down:** parsed, applied once by :func:`locker.uplink.commands.apply` on a
  thread of their own, answered on ``res``. No command opens a door.
- The session is persistent (clean start off, a day's expiry), so a command sent while the
  station was away is delivered when it is back.

paho calls back from its own network thread; the callbacks only hand things over through
queues, so no lock is ever held across a call into paho.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from api.context import StationContext
from api.uplink_tls import StatusBoard, UplinkState, UplinkStatus, client_context, describe
from locker.runtime.settings import plaintext_password_risk
from locker.uplink import commands, outgoing
from locker.uplink.capture import RECOUNT_AFTER, record_hub_event, recount_capacity
from locker.uplink.layout import report as layout_report
from locker.uplink.messages import Command, CommandResult, Presence, topic
from locker.uplink.snapshot import snapshot

_LOG = logging.getLogger(__name__)
WINDOW = 100  # events published and not yet acknowledged, at most
QUIET_WRITES_S = 1.0  # the sender's own writes, at most this often (see _send_loop)
SESSION_EXPIRY_S = 24 * 3600  # the broker keeps the station's session (and commands) a day
BUS_EVERY_S = 300.0  # bus health goes up at most this often (when it changed)


class Uplink:
    """One station's connection to the hub's broker; :meth:`start` and :meth:`stop`."""

    def __init__(self, ctx: StationContext) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.station = ctx.station
        self.name = settings.hub_station
        self.key = bytes.fromhex(settings.hub_command_key)
        self.boot = uuid.uuid4().hex
        self.counts = {"published": 0, "acked": 0, "refused": 0, "bad_commands": 0}
        self._settings = settings
        self._acks: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()
        # Commands to apply, or refusals of messages that were none (answered as they are).
        self._commands: queue.SimpleQueue[Command | CommandResult | None] = queue.SimpleQueue()
        self._restart = threading.Event()  # connected again: resend from the acked point
        self._resend_from: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._threads: list[threading.Thread] = []
        self.status = StatusBoard(settings.mqtt_tls, self.station.now)
        self._handshake_failed = False  # the last attempt's TLS handshake failed (network thread)
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"st-{self.name}",
            protocol=mqtt.MQTTv5,
        )
        if settings.mqtt_user:
            client.username_pw_set(settings.mqtt_user, settings.mqtt_password)
        client.will_set(
            topic(self.name, "state"),
            Presence(station=self.name, online=False, boot=self.boot).payload(),
            qos=1,
            retain=True,
        )
        if settings.mqtt_tls:
            client.tls_set_context(client_context(settings, self._tls_failed))
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._client = client

    # --- life ---------------------------------------------------------------------------

    def start(self) -> None:
        risk = plaintext_password_risk(self._settings)
        if risk and not self._settings.mqtt_allow_plaintext_password_over_network:
            self._note("refused", risk)  # the settings refuse this too; never sent in clear
            return
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self._settings.mqtt_host,
            self._settings.mqtt_port,
            keepalive=self._settings.mqtt_keepalive_s,
            clean_start=False,
            properties=connect,
        )
        self._client.loop_start()
        self.station.db.after_hub_events.append(self.poke)  # events go out as they commit
        for target, name in ((self._send_loop, "uplink-send"), (self._command_loop, "uplink-cmd")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Say goodbye (offline, retained), then leave; the will is not sent after this."""
        if self.poke in self.station.db.after_hub_events:
            self.station.db.after_hub_events.remove(self.poke)
        self._stop.set()
        self._wake.set()
        self._commands.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        if self._connected.is_set():
            info = self._client.publish(
                topic(self.name, "state"),
                Presence(
                    station=self.name, online=False, at=self.station.now(), boot=self.boot
                ).payload(),
                qos=1,
                retain=True,
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()

    def poke(self) -> None:
        """New events may be waiting (the sender also looks by itself twice a second)."""
        self._wake.set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def health(self) -> UplinkStatus:
        return self.status.get()

    def _note(self, state: UplinkState, detail: str | None) -> None:
        """The link's status, logged once when it changes (not at every retry)."""
        if not self.status.set(state, detail):
            return
        if state == "refused":
            _LOG.error("uplink: %s", detail)
        elif detail:
            _LOG.warning("uplink: %s", detail)

    # --- paho's callbacks (network thread: hand over, never block) ------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._note("refused", f"the broker refused the station: {reason}")
            return
        birth = Presence(
            station=self.name,
            online=True,
            at=self.station.now(),
            boot=self.boot,
            last_seq=outgoing.newest_seq(self.station),
            layout=layout_report(self.station.layout),  # the hub draws the front from it
        )
        client.publish(topic(self.name, "state"), birth.payload(), qos=1, retain=True)
        client.subscribe(topic(self.name, "cmd"), qos=1)
        self._restart.set()
        self._connected.set()
        self._wake.set()
        self.status.set("connected")
        tls = " over TLS" if self._settings.mqtt_tls else ""
        _LOG.info("uplink: connected to %s%s", self._settings.mqtt_host, tls)

    def _tls_failed(self, error: Exception) -> None:
        if self._connected.is_set():  # a connection that worked and broke: a reconnect
            return
        self._handshake_failed = True
        self._note("refused", describe(error))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        if self._handshake_failed:  # said already, with the handshake's reason
            self._handshake_failed = False
            return
        where = f"{self._settings.mqtt_host}:{self._settings.mqtt_port}"
        self._note("connecting", f"the broker at {where} does not answer; trying again")

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if not self._stop.is_set() and self.status.get().state == "connected":
            self._note("connecting", f"disconnected ({reason}); reconnecting")

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._acks.put((mid, not reason.is_failure))
        self._wake.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            command = Command.model_validate_json(message.payload)
        except ValidationError as exc:
            self.counts["bad_commands"] += 1
            first = exc.errors()[0]
            why = f"{'.'.join(str(p) for p in first['loc']) or 'message'}: {first['msg']}"
            answer = commands.unreadable(bytes(message.payload), self.name, self.station.now(), why)
            if answer is None:
                _LOG.warning("uplink: a message that is no command was dropped: %s", why)
                return
            _LOG.warning("uplink: command %s refused, unreadable: %s", answer.command_id, why)
            self._commands.put(answer)
            return
        self._commands.put(command)

    # --- the sender -----------------------------------------------------------------------

    def _send_loop(self) -> None:
        inflight: dict[int, int] = {}  # mid -> seq
        done: set[int] = set()
        acked = outgoing.acked_seq(self.station)
        sent = acked
        bus_sent_at = 0.0
        last_bus: dict[str, Any] | None = None
        # The sender's own writes (the acknowledged point, the recount of free capacity) at
        # most every QUIET_WRITES_S: they take SQLite's write lock, which a door wants.
        written_acked, wrote_at = acked, 0.0
        recount_due, recounted_at = False, 0.0
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                if self._restart.is_set():  # a new connection: from the acked point again
                    self._restart.clear()
                    inflight.clear()
                    done.clear()
                    if acked != written_acked:  # what this connection's broker confirmed
                        outgoing.mark_acked(self.station, acked)
                    acked = written_acked = outgoing.acked_seq(self.station)
                    sent = acked
                if self._resend_from is not None:
                    sent = min(sent, self._resend_from - 1)
                    self._resend_from = None
                acked = self._take_acks(inflight, done, acked)
                now = time.monotonic()
                if acked != written_acked and now - wrote_at >= QUIET_WRITES_S:
                    outgoing.mark_acked(self.station, acked)
                    written_acked, wrote_at = acked, now
                if recount_due and now - recounted_at >= QUIET_WRITES_S:
                    recount_due, recounted_at = False, now
                    recount_capacity(self.station.db, self.station.layout)
                if time.monotonic() - bus_sent_at >= BUS_EVERY_S:
                    bus_sent_at = time.monotonic()
                    last_bus = self._record_bus(last_bus)
                if not self._connected.is_set():
                    continue
                room = WINDOW - len(inflight)
                if room <= 0:
                    continue
                for event in outgoing.events_after(self.station, self.name, sent, limit=room):
                    info = self._client.publish(topic(self.name, "evt"), event.payload(), qos=1)
                    inflight[info.mid] = event.seq
                    sent = event.seq
                    self.counts["published"] += 1
                    # recounted here (above, soon), not in the door's transaction
                    recount_due = recount_due or event.type in RECOUNT_AFTER
            except Exception:  # the loop must outlive a bad moment (a locked database)
                _LOG.exception("uplink: sending failed; trying again")
                time.sleep(1)
        if acked != written_acked:
            try:
                outgoing.mark_acked(self.station, acked)
            except Exception:  # stopping: the events are sent again, the hub keeps them once
                _LOG.exception("uplink: could not write the acknowledged point")

    def _take_acks(self, inflight: dict[int, int], done: set[int], acked: int) -> int:
        """Move the acknowledged point over every unbroken run the broker confirmed."""
        while True:
            try:
                mid, accepted = self._acks.get_nowait()
            except queue.Empty:
                break
            seq = inflight.pop(mid, None)
            if seq is None:
                continue  # from before a reconnect: that event is sent again anyway
            if accepted:
                done.add(seq)
                self.counts["acked"] += 1
            else:  # the broker would not take it (its ACL): not acknowledged, retried
                self.counts["refused"] += 1
                _LOG.error("uplink: the broker refused event %d", seq)
                self._resend_from = min(self._resend_from or seq, seq)
        moved = acked
        while moved + 1 in done:
            moved += 1
            done.discard(moved)
        return moved  # written by the send loop (at most every QUIET_WRITES_S)

    def _record_bus(self, last: dict[str, Any] | None) -> dict[str, Any] | None:
        health = {bus: dict(counters) for bus, counters in self.ctx.bus_health().items()}
        if health and health != last:
            with self.station.db.write() as session:
                record_hub_event(session, "bus", {"health": health}, now=self.station.now())
            return health
        return last

    # --- commands -------------------------------------------------------------------------

    def _command_loop(self) -> None:
        while True:
            command = self._commands.get()
            if command is None:
                return
            if isinstance(command, CommandResult):  # a refusal of what was no command
                self._client.publish(topic(self.name, "res"), command.payload(), qos=1)
                continue
            try:
                self._answer(command)
            except Exception as exc:  # answered all the same: the hub never waits on it
                _LOG.exception("uplink: command %s failed", command.id)
                answer = commands.cannot_apply(command, self.name, self.station.now(), exc)
                self._client.publish(topic(self.name, "res"), answer.payload(), qos=1)

    def _answer(self, command: Command) -> None:
        result = commands.apply(self.station, self.name, self.key, command)
        if result.ok and command.type == "snapshot":
            self._send_snapshot()
        elif result.ok and command.type == "resend":
            from_seq = int(command.args["from_seq"])
            oldest = outgoing.oldest_kept_seq(self.station)
            if oldest is None or from_seq < oldest:
                self._send_snapshot()  # pruned already: the whole state instead
            else:
                self._resend_from = from_seq
                self._wake.set()
        self._client.publish(topic(self.name, "res"), result.payload(), qos=1)

    def _send_snapshot(self) -> None:
        whole = snapshot(self.station, self.name, bus=self.ctx.bus_health())
        self._client.publish(topic(self.name, "snap"), whole.payload(), qos=1)
