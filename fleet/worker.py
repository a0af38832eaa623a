"""The hub's MQTT worker: takes what stations send from the shared subscriptions, stores it
a batch at a time (:mod:`fleet.ingest_batch`), acknowledges every message of a batch only
once the batch's transaction has committed, and publishes the commands that came of it.

paho's network thread only queues each message (``manual_ack=True``: paho does not
acknowledge it). The ingest thread takes from the queue up to ``ingest_batch_max``
messages, waiting at most ``ingest_batch_wait_ms`` for the batch to fill, stores them in
one transaction, then sends their PUBACKs in the order they came (``client.ack``). A
worker killed before that leaves them unacknowledged: the broker gives them again, and
what was committed already is not stored twice. The broker keeps up to
``mqtt_receive_maximum`` messages in flight to the worker (MQTT 5's Receive Maximum, sent
at CONNECT): enough for the next batch to fill while one commits.

MQTT 5 with a persistent session (``clean_start=False`` and a session expiry), so a
worker that is killed or loses its connection gets back, under the same client id,
every message it had not acknowledged. Several workers split the stations between them by
the topics' partitions (:mod:`fleet.partitions`: worker ``i`` of ``n`` takes the partitions
``p % n == i``, each through a shared subscription); each event is stored once whichever
took it (ingest's ``ON CONFLICT DO NOTHING``), also when a message comes twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.exc import InterfaceError, OperationalError

from fleet import carrier_stream, ingest_batch, partitions
from fleet.db import HubDatabase
from fleet.delivery import CommandDelivery
from fleet.ingest import Ingest
from fleet.settings import HubSettings
from locker.notify.senders import Poster, WebhookPoster
from locker.notify.webhook_guard import WebhookGuard, allow_list
from locker.testkit import crashpoints
from locker.uplink.messages import UP, Command, partition, shared, station_of

_LOG = logging.getLogger(__name__)
Clock = Callable[[], datetime]
POISON_AFTER = 3  # a message that fails so many times (not for the database) is dropped


@dataclass(frozen=True)
class Inbound:
    """A message as paho's network thread queued it, unacknowledged."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int  # which connection it came on: an older one's cannot be acknowledged


class Worker:
    def __init__(
        self,
        db: HubDatabase,
        settings: HubSettings,
        *,
        index: int = 0,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ingest = Ingest(
            db,
            resend_every=timedelta(seconds=settings.resend_every_s),
            gap_grace=timedelta(seconds=settings.gap_grace_s),
            offline_alert_after=timedelta(minutes=settings.offline_alert_min),
        )
        self.sweep_every_s = max(0.5, min(settings.gap_grace_s, settings.resend_every_s))
        self.client_id = f"{settings.mqtt_client_prefix}-{index}"
        self.share_group = settings.share_group()
        self.partitions = partitions.share(index, settings.workers)  # ValueError: not ours
        self.handled = 0  # messages acknowledged by this worker
        self.by_partition: Counter[int] = Counter()  # of those: the stations' partitions
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed the subscriptions
        self._broken = threading.Event()  # a message could not be stored: reconnect
        self._stop = threading.Event()
        self._failures: Counter[str] = Counter()  # by message digest
        self._thread: threading.Thread | None = None
        self._webhooks: threading.Thread | None = None
        self._ingesting: threading.Thread | None = None
        self._inbox: queue.Queue[Inbound] = queue.Queue()
        self._connection = 0  # counts the connections made (paho's network thread)
        self.batch_max = settings.ingest_batch_max
        self.batch_wait_s = settings.ingest_batch_wait_ms / 1000
        self.batches = 0  # batches committed
        self.busy_s = 0.0  # time spent storing batches (the rest: waiting for messages)
        self.db = db
        self.poster: Poster = WebhookPoster(WebhookGuard(allow_list(settings.webhook_allow_hosts)))
        self.delivery = CommandDelivery(  # commands tracked until the broker has them
            db,
            lambda name, payload: self.client.publish(name, payload, qos=1).mid,
            retry_after=timedelta(seconds=settings.command_retry_s),
        )
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.mqtt_user:
            client.username_pw_set(settings.mqtt_user, settings.mqtt_password.get_secret_value())
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = lambda _c, _u, mid, reason, _p: self.delivery.on_puback(
            mid, not reason.is_failure
        )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client = client

    # -- life -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and work in background threads until :meth:`stop`."""
        self._thread = threading.Thread(target=self.run, name=f"fleet-{self.client_id}")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)  # the batch under way is finished first
            self._thread = None

    def run(self) -> None:
        """Work until :meth:`stop` (or forever): the calling thread supervises."""
        self._connect()
        self._webhooks = threading.Thread(
            target=self._deliver_webhooks, name=f"fleet-{self.client_id}-webhooks"
        )
        self._webhooks.start()
        self._ingesting = threading.Thread(
            target=self._ingest_loop, name=f"fleet-{self.client_id}-ingest"
        )
        self._ingesting.start()
        next_sweep = time.monotonic() + self.sweep_every_s
        try:
            while not self._stop.wait(0.2):
                if self._broken.is_set():
                    self._reconnect()
                if time.monotonic() >= next_sweep and self.connected.is_set():
                    next_sweep = time.monotonic() + self.sweep_every_s
                    self._sweep()
        finally:
            self._stop.set()
            if self._ingesting is not None:
                self._ingesting.join(timeout=30)  # the batch under way is finished first
            if self._webhooks is not None:
                self._webhooks.join(timeout=30)
            self.client.disconnect()
            self.client.loop_stop()
            self.connected.clear()
            _LOG.info(
                "%s stopped after %d messages (%d batches, %.1f s storing them; %d partitions)",
                self.client_id,
                self.handled,
                self.batches,
                self.busy_s,
                len(self.by_partition),
            )

    def publish(self, command: Command) -> None:
        """Send a command to its station (QoS 1; queued while the broker is away, and
        published again by the sweep until the broker acknowledges it)."""
        self.delivery.publish(command)

    # -- callbacks (paho's network thread) --------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            _LOG.error("%s: the broker refused the connection: %s", self.client_id, reason)
            return
        _LOG.info("%s connected (session present: %s)", self.client_id, flags.session_present)
        self._connection += 1
        filters = [
            (shared(kind, self.share_group, p), SubscribeOptions(qos=1))
            for p in sorted(self.partitions)
            for kind in UP
        ]
        client.subscribe(filters)
        self.connected.set()

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            _LOG.error("%s: the broker refused a subscription: %s", self.client_id, refused)
            return
        _LOG.info(
            "%s subscribed (%d partitions of %d)",
            self.client_id,
            len(self.partitions),
            len(partitions.ALL),
        )
        self.subscribed.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            _LOG.warning("%s lost the broker: %s", self.client_id, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._broken.is_set():
            return  # not acknowledged: it comes again after the reconnection
        self._inbox.put(Inbound(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self._connection))

    # -- the ingest thread ------------------------------------------------------------

    def _ingest_loop(self) -> None:
        while not self._stop.is_set():
            batch = self._take()
            if batch:
                self._store(batch)

    def _take(self) -> list[Inbound]:
        """Up to ``batch_max`` messages: those waiting, and what comes within
        ``batch_wait_s`` of the first."""
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _store(self, batch: list[Inbound]) -> None:
        """One transaction for the batch; then every message of it acknowledged."""
        batch = [m for m in batch if m.connection == self._connection]
        if not batch or self._broken.is_set():
            return  # of a connection that is gone: they come again on the new one
        began = time.monotonic()
        try:
            out = ingest_batch.handle(
                self.ingest, [(m.topic, m.payload) for m in batch], self.clock()
            )
        except (OperationalError, InterfaceError):  # the database is away: they come again
            _LOG.exception("%s could not store a batch of %d", self.client_id, len(batch))
            self._broken.set()
            return
        except Exception:
            _LOG.exception("%s failed on a batch: its messages one by one", self.client_id)
            self._one_by_one(batch)
            return
        self.batches += 1
        self.busy_s += time.monotonic() - began
        crashpoints.reached(crashpoints.INGEST_BATCH_COMMITTED)
        for message in batch:
            self._ack(message)
        for command in out:
            self.publish(command)

    def _one_by_one(self, batch: list[Inbound]) -> None:
        """A batch that failed (not for the database): each message in a transaction of its
        own, so the one that fails is found. It is tried a few times (it might be a passing
        trouble), then dropped so it cannot stop the stream."""
        for message in batch:
            try:
                out = self.ingest.handle(message.topic, message.payload, self.clock())
            except (OperationalError, InterfaceError):
                _LOG.exception("%s could not store a message on %s", self.client_id, message.topic)
                self._broken.set()
                return
            except Exception:
                key = hashlib.sha256(message.topic.encode() + b"\0" + message.payload).hexdigest()
                self._failures[key] += 1
                _LOG.exception("%s failed on a message on %s", self.client_id, message.topic)
                if self._failures[key] < POISON_AFTER:
                    self._broken.set()  # the rest is not acknowledged: it comes again
                    return
                del self._failures[key]
                self.ingest.drop("failed", message.topic, "failed every time it was tried")
                out = []
            self._ack(message)
            for command in out:
                self.publish(command)

    def _ack(self, message: Inbound) -> None:
        if message.connection == self._connection:
            self.client.ack(message.mid, message.qos)
            self.handled += 1
            with contextlib.suppress(ValueError):  # not a station's topic: dropped, counted
                self.by_partition[partition(station_of(message.topic)[0])] += 1

    # -- the supervising thread -------------------------------------------------------

    def _reconnect(self) -> None:
        """Drop the connection so the broker gives back what was not acknowledged."""
        _LOG.warning("%s reconnects to have its unacknowledged messages again", self.client_id)
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()
        if self._stop.wait(1.0):
            return
        while not self._inbox.empty():  # of the old connection: they come again
            self._inbox.get_nowait()
        self._broken.clear()
        self._connect()

    def _connect(self) -> None:
        """Connect in the background (paho's loop retries until the broker answers)."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.settings.mqtt_session_expiry_s
        properties.ReceiveMaximum = self.settings.mqtt_receive_maximum
        self.client.connect_async(
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            keepalive=self.settings.mqtt_keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()

    def _deliver_webhooks(self) -> None:
        """Carriers' webhooks (fleet.carriers), on a thread of their own: a slow receiver
        holds up neither the messages nor the sweep."""
        while not self._stop.wait(self.settings.webhook_every_s):
            try:
                while carrier_stream.deliver_due(self.db, self.poster, self.clock) and (
                    not self._stop.is_set()
                ):
                    pass
            except Exception:
                _LOG.exception("%s could not send carriers' webhooks", self.client_id)

    def _sweep(self) -> None:
        try:
            for command in self.ingest.sweep(self.clock()):
                self.publish(command)
        except Exception:
            _LOG.exception("%s could not look for gaps", self.client_id)
        try:
            self.delivery.sweep(self.clock())
        except Exception:
            _LOG.exception("%s could not publish commands again", self.client_id)
