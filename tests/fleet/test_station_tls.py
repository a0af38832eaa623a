"""The station's MQTT link over TLS, against Mosquitto's TLS listener with a CA made in the
test (:mod:`fleet.pki`): the station verifies the broker's certificate and name, says in its
health and its log why it refused one, may show a client certificate, and never sends its
password in clear to a broker that is not on this machine."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import ValidationError

from fleet import broker
from fleet.engines import FleetBroker, free_port
from fleet.pki import Authority
from locker.runtime.settings import Settings
from locker.uplink.messages import UP, Presence, topic
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import PeerFactory

KEY = secrets.token_bytes(32)


@pytest.fixture
def ca() -> Authority:
    return Authority("test broker CA")


def tls_broker(fleet: FleetBroker, ca: Authority, names: tuple[str, ...], **options: object) -> int:
    """Give the running broker a TLS listener with a certificate ``ca`` signed for ``names``."""
    server = ca.issue(fleet.folder / "tls", "server", names)
    fleet.stop()
    fleet.tls = broker.TlsListener(
        server.cert,
        server.key,
        port=free_port(),
        bind="127.0.0.1",
        **options,  # type: ignore[arg-type]
    )
    fleet.apply()
    fleet.start()
    return fleet.tls.port


@contextmanager
def station_over_tls(
    tmp_path: Path, fleet: FleetBroker, port: int, ca_file: Path, **settings: object
) -> Iterator[LiveStation]:
    user, password = fleet.credentials("a")
    with live_station(
        tmp_path,
        background=False,
        hub_station="a",
        mqtt_host="127.0.0.1",
        mqtt_port=port,
        mqtt_user=user,
        mqtt_password=password,
        hub_command_key=KEY.hex(),
        mqtt_tls=True,
        mqtt_ca_file=ca_file,
        mqtt_keepalive_s=5,
        **settings,
    ) as live:
        yield live


def uplink_health(live: LiveStation) -> dict[str, object]:
    with live.client(None) as anyone:
        body = anyone.get("/healthz").json()
    uplink: dict[str, object] = body["uplink"]
    uplink["status"] = body["status"]
    return uplink


def test_a_station_reaches_the_broker_over_tls_with_the_ca_it_trusts(
    tmp_path: Path, fleet_broker: FleetBroker, mqtt: PeerFactory, ca: Authority
) -> None:
    port = tls_broker(fleet_broker, ca, ("127.0.0.1", "localhost"))
    hub = mqtt(fleet_broker.port, fleet_broker.hub_user, fleet_broker.hub_password)
    assert hub.connect() == "Success"  # the hub's workers stay on the loopback listener
    hub.subscribe(topic("a", "state"))
    ca_file = ca.write_ca(tmp_path / "ca.pem")
    with station_over_tls(tmp_path, fleet_broker, port, ca_file) as live:
        birth = hub.expect(lambda m: b'"online":true' in m.payload)
        assert Presence.model_validate_json(birth.payload).station == "a"
        wait_until(lambda: uplink_health(live)["state"] == "connected")
        health = uplink_health(live)
        assert health["tls"] is True
        assert health["detail"] is None
        assert health["status"] == "ok"


@pytest.mark.parametrize(
    ("case", "names", "says"),
    [
        ("untrusted", ("127.0.0.1", "localhost"), "unable to get local issuer certificate"),
        ("wrong name", ("broker.example.org",), "IP address mismatch"),
    ],
)
def test_an_untrusted_certificate_or_a_wrong_name_is_refused_and_said(
    tmp_path: Path,
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
    ca: Authority,
    caplog: pytest.LogCaptureFixture,
    case: str,
    names: tuple[str, ...],
    says: str,
) -> None:
    port = tls_broker(fleet_broker, ca, names)
    trusted = Authority("another CA") if case == "untrusted" else ca
    ca_file = trusted.write_ca(tmp_path / "trusted.pem")
    hub = mqtt(fleet_broker.port, fleet_broker.hub_user, fleet_broker.hub_password)
    assert hub.connect() == "Success"
    for kind in UP:
        assert [c.value for c in hub.subscribe(topic("a", kind))] == [1]
    caplog.set_level(logging.INFO, logger="api.uplink")
    with station_over_tls(tmp_path, fleet_broker, port, ca_file) as live:
        wait_until(lambda: uplink_health(live)["state"] == "refused")
        health = uplink_health(live)
        assert health["status"] == "degraded"
        assert "the broker's certificate was refused" in str(health["detail"])
        assert says in str(health["detail"])
        logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any(says in line for line in logged), logged
    # Nothing of the station reached the hub: no birth, no will (it never logged in).
    assert hub.received() == []


def test_a_client_certificate_is_shown_when_the_broker_asks_for_one(
    tmp_path: Path, fleet_broker: FleetBroker, mqtt: PeerFactory, ca: Authority
) -> None:
    client_ca = ca.write_ca(fleet_broker.folder / "tls" / "clients.pem")  # the broker reads it
    port = tls_broker(fleet_broker, ca, ("127.0.0.1",), client_ca=client_ca)
    ca_file = ca.write_ca(tmp_path / "ca.pem")
    mine = ca.issue(tmp_path / "client", "station-a", ("station-a",), client=True)
    with station_over_tls(
        tmp_path, fleet_broker, port, ca_file, mqtt_client_cert=mine.cert, mqtt_client_key=mine.key
    ) as live:
        wait_until(lambda: uplink_health(live)["state"] == "connected")
    (tmp_path / "without").mkdir()
    with station_over_tls(tmp_path / "without", fleet_broker, port, ca_file) as live:
        wait_until(lambda: uplink_health(live)["state"] == "refused")
        assert "certificate required" in str(uplink_health(live)["detail"])


def _hub_settings(**given: object) -> Settings:
    base: dict[str, object] = {
        "hub_station": "a",
        "mqtt_user": "st-a",
        "mqtt_password": "a secret",
        "hub_command_key": KEY.hex(),
    }
    return Settings(_env_file=None, **{**base, **given})  # type: ignore[arg-type]


def test_the_password_is_never_sent_in_clear_beyond_loopback_unless_said_in_words() -> None:
    for host in ("hub.example.org", "10.1.2.3", "192.168.1.20", "::ffff:10.0.0.1"):
        with pytest.raises(ValidationError, match="in clear") as refused:
            _hub_settings(mqtt_host=host)
        assert "LOCKER_MQTT_ALLOW_PLAINTEXT_PASSWORD_OVER_NETWORK" in str(refused.value)
        assert _hub_settings(mqtt_host=host, mqtt_tls=True).mqtt_tls
        risky = _hub_settings(mqtt_host=host, mqtt_allow_plaintext_password_over_network=True)
        assert not risky.mqtt_tls
    for host in ("127.0.0.1", "127.8.9.10", "localhost", "::1"):
        assert _hub_settings(mqtt_host=host).mqtt_host == host  # never leaves the machine


def test_tls_settings_go_together(tmp_path: Path) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("not checked here")
    with pytest.raises(ValidationError, match="need LOCKER_MQTT_TLS"):
        _hub_settings(mqtt_host="127.0.0.1", mqtt_ca_file=pem)
    with pytest.raises(ValidationError, match="go together"):
        _hub_settings(mqtt_host="127.0.0.1", mqtt_tls=True, mqtt_client_cert=pem)
    with pytest.raises(ValidationError, match="no such CA file"):
        _hub_settings(mqtt_host="127.0.0.1", mqtt_tls=True, mqtt_ca_file=tmp_path / "none.pem")
