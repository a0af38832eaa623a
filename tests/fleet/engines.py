"""Fixtures and helpers for the fleet tests: a real PostgreSQL, a real Mosquitto, MQTT peers.

Use them from any test module under ``tests/fleet`` (``conftest.py`` there imports the
fixtures) or import them elsewhere: ``from tests.fleet.engines import pg_database``.

- ``pg_server`` (session): one PostgreSQL 15 cluster on 127.0.0.1, trust auth for ``lps``.
- ``pg_database``: a fresh empty database on it per test (:class:`PgDatabase`: ``.url`` for
  SQLAlchemy, ``.dsn`` for psycopg, ``.stop()`` / ``.start()`` to take the server away
  mid-test; the fixture starts it again afterwards if the test left it stopped).
- ``pg_private``: a cluster of the test's own (for crashing it with ``stop("immediate")``).
- ``fleet_broker``: a Mosquitto 2.0 with the hub's generated configuration, users ``hub``
  and ``st-<name>`` for stations ``a`` and ``b`` (:class:`fleet.engines.FleetBroker`: add
  stations, stop / start on the same port and persistence, kill, reload).
- ``mqtt``: a factory of :class:`MqttPeer` (a paho 2.x MQTT 5 client on its own loop
  thread that records what it receives); every peer is closed at the end of the test.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from fleet.engines import FleetBroker, Postgres

WAIT = 20.0  # a bound on waiting for something that should happen, never an assertion


# --- PostgreSQL ---------------------------------------------------------------------------


@dataclass
class PgDatabase:
    server: Postgres
    name: str

    @property
    def url(self) -> str:
        """SQLAlchemy URL (``postgresql+psycopg://lps@127.0.0.1:PORT/NAME``)."""
        return self.server.url(self.name)

    @property
    def dsn(self) -> str:
        return self.server.dsn(self.name)

    def stop(self, mode: str = "fast") -> None:
        self.server.stop(mode)

    def start(self) -> None:
        self.server.start()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    server = Postgres.create()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_database(pg_server: Postgres) -> Iterator[PgDatabase]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    if not pg_server.running:
        pg_server.start()
    pg_server.create_database(name)
    yield PgDatabase(pg_server, name)
    if not pg_server.running:  # the test stopped it (any mode): the next test needs it
        pg_server.start()
    pg_server.drop_database(name)


@pytest.fixture
def pg_private() -> Iterator[PgDatabase]:
    server = Postgres.create()
    server.start()
    server.create_database("hub")
    yield PgDatabase(server, "hub")
    server.remove()


# --- TLS ----------------------------------------------------------------------------------


def make_certificates(folder: Path, name: str = "ca") -> tuple[Path, Path, Path]:
    """A CA and a server certificate it signed for 127.0.0.1 and localhost:
    ``(ca.pem, server.pem, server.key)`` in ``folder``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build(f"test {name}", f"test {name}", ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("127.0.0.1", f"test {name}", key, ca_key, False)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"{name}.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# --- Mosquitto ----------------------------------------------------------------------------


@pytest.fixture
def fleet_broker() -> Iterator[FleetBroker]:
    broker = FleetBroker.create(stations=["a", "b"])
    broker.start()
    yield broker
    broker.remove()


@dataclass
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: Properties | None


@dataclass
class MqttPeer:
    """One MQTT 5 client (paho 2.x, callback API 2) with its own loop thread.

    ``connect()`` returns the CONNACK's reason code, ``subscribe()`` the SUBACK's,
    ``publish()`` the PUBACK's (QoS 1); what arrives is queued for :meth:`expect`."""

    port: int
    username: str | None
    password: str | None
    client_id: str = field(default_factory=lambda: f"t-{uuid.uuid4().hex[:10]}")
    keepalive: int = 60
    clean_start: bool = True
    session_expiry: int = 0
    will: tuple[str, bytes, int, bool] | None = None  # topic, payload, qos, retain
    tls_ca: Path | None = None  # TLS, trusting this CA (PEM)
    client: paho.Client = field(init=False)
    inbox: queue.Queue[Received] = field(init=False, default_factory=queue.Queue)
    _acks: dict[int, queue.Queue[Any]] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _connack: queue.Queue[ReasonCode] = field(init=False, default_factory=queue.Queue)
    disconnects: queue.Queue[ReasonCode] = field(init=False, default_factory=queue.Queue)
    _looping: bool = field(init=False, default=False)
    _connected: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            reconnect_on_failure=False,
        )
        if self.username is not None:
            self.client.username_pw_set(self.username, self.password)
        if self.tls_ca is not None:
            self.client.tls_set(ca_certs=str(self.tls_ca))
        if self.will is not None:
            topic, payload, qos, retain = self.will
            self.client.will_set(topic, payload, qos, retain)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect

    # callbacks (loop thread)
    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self._connected = True
        self._connack.put(rc)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self.disconnects.put(rc)
        if not self._connected:  # dropped before any CONNACK: connect() returns this code
            self._connack.put(rc)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        self.inbox.put(Received(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain), props))

    def _ack_queue(self, mid: int) -> queue.Queue[Any]:
        with self._lock:
            return self._acks.setdefault(mid, queue.Queue())

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, codes: Any, props: Any
    ) -> None:
        self._ack_queue(mid).put(list(codes))

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, rc: Any, props: Any
    ) -> None:
        self._ack_queue(mid).put(rc)

    # calls (test thread)
    def connect(self) -> ReasonCode:
        props = None
        if self.session_expiry:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.session_expiry
        self.client.connect(
            "127.0.0.1",
            self.port,
            keepalive=self.keepalive,
            clean_start=self.clean_start,
            properties=props,
        )
        self.client.loop_start()
        self._looping = True
        return self._connack.get(timeout=WAIT)

    def subscribe(self, topic: str, qos: int = 1) -> list[ReasonCode]:
        rc, mid = self.client.subscribe(topic, qos)
        assert rc == paho.MQTT_ERR_SUCCESS, rc
        assert mid is not None
        codes: list[ReasonCode] = self._ack_queue(mid).get(timeout=WAIT)
        return codes

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> ReasonCode:
        """Publish and wait for the broker's PUBACK (QoS 1); its reason code."""
        info = self.client.publish(topic, payload, qos, retain)
        assert info.mid is not None
        code: ReasonCode = self._ack_queue(info.mid).get(timeout=WAIT)
        return code

    def expect(self, predicate: Callable[[Received], bool] = lambda m: True) -> Received:
        """The next received message that satisfies ``predicate`` (others are skipped)."""
        while True:
            message = self.inbox.get(timeout=WAIT)
            if predicate(message):
                return message

    def received(self) -> list[Received]:
        """What has arrived and not been taken yet (without waiting)."""
        items = []
        while True:
            try:
                items.append(self.inbox.get_nowait())
            except queue.Empty:
                return items

    def disconnect(self) -> None:
        self.client.disconnect()
        self.close()

    def close(self) -> None:
        if self._looping:
            self.client.loop_stop()
            self._looping = False
        sock = self.client.socket()
        if sock is not None:
            sock.close()


PeerFactory = Callable[..., MqttPeer]


@pytest.fixture
def mqtt() -> Iterator[PeerFactory]:
    peers: list[MqttPeer] = []

    def make(port: int, username: str | None, password: str | None, **options: Any) -> MqttPeer:
        peer = MqttPeer(port, username, password, **options)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()
