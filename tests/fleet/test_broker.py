"""The hub's broker configuration, on a real Mosquitto 2.0 started with the generated files
(the dynamic-security plugin's users, roles and ACLs).

What Mosquitto 2.0.11 with the plugin really does, as these tests found:
- a refused login gets CONNACK 0x87 (not authorized), for a wrong password and anonymous;
- a denied publish (QoS 1) gets PUBACK 0x87 and goes to nobody;
- a denied *subscription* gets SUBACK 0x87 (the ACL file of before granted it and only
  filtered at delivery), also for a shared subscription: a station cannot join the hub's
  share group and take turns of other stations' messages;
- users and roles changed through ``$CONTROL/dynamic-security/v1`` take effect at once, and a
  deleted client is thrown out.
"""

from __future__ import annotations

import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fleet import broker, dynsec
from fleet.engines import FleetBroker, free_port, port_accepts
from locker.uplink.messages import ROOT, UP, Command, Event, Presence, every, shared, topic
from tests.fleet.engines import WAIT, MqttPeer, PeerFactory, make_certificates

NOT_AUTHORIZED = 0x87
AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def hub_peer(fleet: FleetBroker, mqtt: PeerFactory, **options: Any) -> MqttPeer:
    peer = mqtt(fleet.port, fleet.hub_user, fleet.hub_password, **options)
    assert peer.connect() == "Success"
    return peer


def station_peer(fleet: FleetBroker, mqtt: PeerFactory, name: str, **options: Any) -> MqttPeer:
    peer = mqtt(fleet.port, *fleet.credentials(name), **options)
    assert peer.connect() == "Success"
    return peer


def event(station: str, seq: int) -> bytes:
    return Event(id=f"{seq:032x}", station=station, seq=seq, at=AT, type="bus", data={}).payload()


# --- the files -----------------------------------------------------------------------------


# (that Mosquitto takes ours is what every connection test below does)


# --- the broker ---------------------------------------------------------------------------


def test_wrong_passwords_and_anonymous_are_refused(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    user, password = fleet_broker.credentials("a")
    for username, secret in (
        (user, password + "x"),
        (user, fleet_broker.credentials("b")[1]),  # b's password for a
        (user, fleet_broker.hub_password),
        ("hub", password),
        (None, None),
    ):
        refused = mqtt(fleet_broker.port, username, secret)
        assert refused.connect().value == NOT_AUTHORIZED
        refused.close()
    station_peer(fleet_broker, mqtt, "a")


def test_a_station_cannot_write_another_stations_topics_nor_commands(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    group = fleet_broker.share_group
    hub = hub_peer(fleet_broker, mqtt)
    for kind in UP:
        assert [c.value for c in hub.subscribe(shared(kind, group))] == [1]
    b = station_peer(fleet_broker, mqtt, "b")
    b.subscribe(topic("b", "cmd"))
    a = station_peer(fleet_broker, mqtt, "a")
    for kind in UP:
        assert a.publish(topic("b", kind), event("b", 1)).value == NOT_AUTHORIZED
    assert a.publish(topic("b", "cmd"), b"open all").value == NOT_AUTHORIZED
    assert a.publish(topic("a", "cmd"), b"to myself").value == NOT_AUTHORIZED
    assert a.publish(f"{ROOT}/b", b"x").value == NOT_AUTHORIZED
    assert a.publish(topic("a", "evt"), event("a", 1)) == "Success"
    # In order from one client: the hub's first message is a's own event, none of the rest.
    first = hub.expect()
    assert (first.topic, first.payload) == (topic("a", "evt"), event("a", 1))
    hub.publish(topic("b", "cmd"), b"for b")
    assert b.expect().payload == b"for b"  # b got only the hub's command, none of a's


def test_a_station_may_subscribe_to_its_own_commands_and_nothing_else(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    b = station_peer(fleet_broker, mqtt, "b")
    b.subscribe(topic("b", "cmd"))
    b.publish(topic("b", "state"), Presence(station="b", online=True).payload(), retain=True)
    a = station_peer(fleet_broker, mqtt, "a")
    refused = (
        topic("b", "cmd"),
        topic("b", "evt"),
        topic("a", "evt"),  # its own up topics: it writes them, it does not read them
        every("cmd"),
        every("state"),
        f"{ROOT}/+/b/cmd",  # b's commands under any partition
        f"{ROOT}/#",
        "#",
        "$SYS/#",
        "$CONTROL/dynamic-security/#",
        shared("evt", fleet_broker.share_group),  # the workers' own group
        shared("state", "hub"),
        f"$share/{fleet_broker.share_group}/{topic('a', 'cmd')}",
    )
    for pattern in refused:
        assert [c.value for c in a.subscribe(pattern)] == [NOT_AUTHORIZED], pattern
    assert [c.value for c in a.subscribe(topic("a", "cmd"))] == [1]
    hub = hub_peer(fleet_broker, mqtt)
    hub.publish(topic("b", "cmd"), b"for b")
    hub.publish(topic("a", "cmd"), b"for a")
    assert b.expect().payload == b"for b"
    # a sees neither b's command nor b's retained presence: only its own commands, once each.
    hub.publish(topic("a", "cmd"), b"end")
    got = [a.expect(), a.expect()]
    assert [(m.topic, m.payload) for m in got] == [
        (topic("a", "cmd"), b"for a"),
        (topic("a", "cmd"), b"end"),
    ]
    assert a.received() == []


def test_hub_workers_share_events_and_their_commands_reach_the_station(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    group = fleet_broker.share_group
    workers = [hub_peer(fleet_broker, mqtt) for _ in range(2)]
    for worker in workers:
        worker.subscribe(shared("evt", group))
    a = station_peer(fleet_broker, mqtt, "a")
    a.subscribe(topic("a", "cmd"))
    for seq in range(1, 11):
        assert a.publish(topic("a", "evt"), event("a", seq)) == "Success"
    a.publish(topic("a", "evt"), event("a", 11))  # one end mark per worker (round robin)
    a.publish(topic("a", "evt"), event("a", 12))
    got: list[list[int]] = [[], []]
    for seqs, worker in zip(got, workers, strict=True):
        while not seqs or seqs[-1] < 11:
            seqs.append(Event.model_validate_json(worker.expect().payload).seq)
    assert all(len(seqs) > 1 for seqs in got)  # both had a share
    assert sorted(got[0][:-1] + got[1][:-1]) == list(range(1, 11))  # each event once
    command = Command(id="cmd-0001", station="a", type="snapshot", issued_at=datetime.now(UTC))
    assert workers[1].publish(topic("a", "cmd"), command.payload()) == "Success"
    assert Command.model_validate_json(a.expect().payload) == command


def test_a_station_cannot_join_a_share_group_so_the_hub_gets_every_event(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    """With the ACL file of before, Mosquitto took a station into any share group and gave it
    turns of b's events, which it then dropped (a may not read them). The plugin refuses the
    subscription, whatever the group is called, so every member that takes a turn is the
    hub's."""
    known = hub_peer(fleet_broker, mqtt)
    known.subscribe(shared("evt", "hub"))
    a = station_peer(fleet_broker, mqtt, "a")
    for group in ("hub", fleet_broker.share_group):
        assert [c.value for c in a.subscribe(shared("evt", group))] == [NOT_AUTHORIZED]
    b = station_peer(fleet_broker, mqtt, "b")
    for seq in range(1, 11):
        b.publish(topic("b", "evt"), event("b", seq))
    assert [Event.model_validate_json(known.expect().payload).seq for _ in range(10)] == list(
        range(1, 11)
    )
    assert a.received() == []


def test_a_new_shared_subscription_gets_the_retained_presences(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    """For the hub: Mosquitto 2.0.11 hands every new member of a share group the retained
    messages (MQTT 5 §4.8.2 says it should not, later Mosquitto versions do not), so a
    worker that joins may get presences again that another worker has already seen; one
    that must know them all subscribes plainly (``lps/v2/+/+/state``, not shared)."""
    a = station_peer(fleet_broker, mqtt, "a")
    a.publish(topic("a", "state"), Presence(station="a", online=True).payload(), retain=True)
    workers = [hub_peer(fleet_broker, mqtt) for _ in range(2)]
    for worker in workers:
        worker.subscribe(shared("state", fleet_broker.share_group))
    for worker in workers:
        first = worker.expect()
        assert first.retain
        assert Presence.model_validate_json(first.payload).station == "a"
    plain = hub_peer(fleet_broker, mqtt)
    plain.subscribe(every("state"))
    assert Presence.model_validate_json(plain.expect().payload).station == "a"


@pytest.mark.parametrize("how", ["socket closed", "silent"])
def test_the_broker_publishes_a_stations_will_when_it_drops(
    fleet_broker: FleetBroker, mqtt: PeerFactory, how: str
) -> None:
    """Without DISCONNECT: the socket closed under the client (a crash, a cut cable seen by
    TCP), or a connection that goes silent (no PINGREQ: the broker gives up after 1.5 times
    the 2 s keep-alive)."""
    hub = hub_peer(fleet_broker, mqtt)
    hub.subscribe(shared("state", fleet_broker.share_group))
    will = Presence(station="a", online=False).payload()
    a = station_peer(
        fleet_broker, mqtt, "a", keepalive=2, will=(topic("a", "state"), will, 1, True)
    )
    birth = Presence(station="a", online=True, at=datetime.now(UTC), boot="b1")
    a.publish(topic("a", "state"), birth.payload(), retain=True)
    assert Presence.model_validate_json(hub.expect().payload) == birth
    a.client.loop_stop()  # no more pings, no DISCONNECT
    a._looping = False
    if how == "socket closed":
        sock = a.client.socket()
        assert sock is not None
        sock.close()
    gone = hub.expect()
    assert gone.topic == topic("a", "state")
    assert Presence.model_validate_json(gone.payload) == Presence(station="a", online=False)
    later = hub_peer(fleet_broker, mqtt)
    later.subscribe(topic("a", "state"))  # plainly: the will was kept as the retained state
    kept = later.expect()
    assert kept.retain
    assert Presence.model_validate_json(kept.payload).online is False


def test_a_station_added_while_the_broker_runs_can_log_in_at_once(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    early = mqtt(fleet_broker.port, "st-c", "not yet")
    assert early.connect().value == NOT_AUTHORIZED
    early.close()
    pid = fleet_broker.engine.process.pid if fleet_broker.engine.process else None
    password = fleet_broker.add_station("c")  # through $CONTROL/dynamic-security/v1
    c = mqtt(fleet_broker.port, "st-c", password)
    assert c.connect() == "Success"  # no retry: answered means in effect
    assert fleet_broker.engine.process is not None
    assert fleet_broker.engine.process.pid == pid  # the same broker, never restarted
    hub = hub_peer(fleet_broker, mqtt)
    hub.subscribe(shared("evt", fleet_broker.share_group))
    assert c.publish(topic("c", "evt"), event("c", 1)) == "Success"
    assert hub.expect().topic == topic("c", "evt")
    assert c.publish(topic("a", "evt"), event("a", 1)).value == NOT_AUTHORIZED
    assert [r.value for r in c.subscribe(topic("c", "cmd"))] == [1]
    assert [r.value for r in c.subscribe(topic("a", "cmd"))] == [NOT_AUTHORIZED]
    # The plugin keeps what it was told in its own file: a restart keeps station c.
    fleet_broker.stop()
    fleet_broker.start()
    again = mqtt(fleet_broker.port, "st-c", password)
    assert again.connect() == "Success"


def test_the_hubs_session_keeps_events_while_it_is_away_and_over_a_broker_restart(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    group = fleet_broker.share_group
    options = {"client_id": "hub-worker-1", "clean_start": False, "session_expiry": 3600}
    hub = hub_peer(fleet_broker, mqtt, **options)
    hub.subscribe(shared("evt", group))
    hub.disconnect()
    a = station_peer(fleet_broker, mqtt, "a")
    for seq in (1, 2, 3):
        assert a.publish(topic("a", "evt"), event("a", seq)) == "Success"
    a.disconnect()
    fleet_broker.stop()  # SIGTERM: saves the sessions and their queues
    fleet_broker.start()
    back = hub_peer(fleet_broker, mqtt, **options)
    assert [Event.model_validate_json(back.expect().payload).seq for _ in range(3)] == [1, 2, 3]


def test_a_removed_station_is_thrown_out_at_once_and_cannot_come_back(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    a = station_peer(fleet_broker, mqtt, "a")
    b = station_peer(fleet_broker, mqtt, "b")
    old_a, old_b = fleet_broker.credentials("a"), fleet_broker.credentials("b")
    fleet_broker.remove_station("a")
    fleet_broker.add_station("b")  # a new password for b: its old session goes too
    assert a.disconnects.get(timeout=WAIT) is not None
    assert b.disconnects.get(timeout=WAIT) is not None
    for username, password in (old_a, old_b):
        stale = mqtt(fleet_broker.port, username, password)
        assert stale.connect().value == NOT_AUTHORIZED
        stale.close()
    station_peer(fleet_broker, mqtt, "b")  # with the new one


def test_applying_the_registry_to_a_running_broker_removes_and_names_what_it_lacks(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    a = station_peer(fleet_broker, mqtt, "a")
    hashes = {name: broker.hash_password(pw) for name, pw in fleet_broker.passwords.items()}
    only_b = [broker.BrokerUser("b", hashes["b"])]
    files, pid = dynsec.apply_broker_config(
        fleet_broker.folder, only_b, fleet_broker.hub_password, port=fleet_broker.port
    )
    assert pid == fleet_broker.engine.process.pid  # type: ignore[union-attr]
    assert a.disconnects.get(timeout=WAIT) is not None  # a is gone from the broker
    stale = mqtt(fleet_broker.port, *fleet_broker.credentials("a"))
    assert stale.connect().value == NOT_AUTHORIZED
    lacking = [*only_b, broker.BrokerUser.with_password("z", "pw")]
    with pytest.raises(broker.BrokerConfigError, match="lacks st-z"):
        dynsec.apply_broker_config(
            fleet_broker.folder, lacking, fleet_broker.hub_password, port=fleet_broker.port
        )


def test_stations_reach_the_broker_over_tls_and_only_with_the_right_certificate(
    fleet_broker: FleetBroker, mqtt: PeerFactory, tmp_path: Path
) -> None:
    ca, cert, key = make_certificates(fleet_broker.folder / "tls")
    stranger_ca = make_certificates(tmp_path / "other", "other")[0]
    fleet_broker.stop()
    fleet_broker.tls = broker.TlsListener(cert, key, port=free_port(), bind="127.0.0.1")
    fleet_broker.apply()
    fleet_broker.start()
    tls_port = fleet_broker.tls.port
    hub = hub_peer(fleet_broker, mqtt)  # the hub's workers stay on the loopback listener
    hub.subscribe(shared("evt", fleet_broker.share_group))
    a = mqtt(tls_port, *fleet_broker.credentials("a"), tls_ca=ca)
    assert a.connect() == "Success"
    assert a.publish(topic("a", "evt"), event("a", 1)) == "Success"
    assert hub.expect().payload == event("a", 1)
    # The ACL is the same on both listeners.
    assert a.publish(topic("b", "evt"), event("b", 1)).value == NOT_AUTHORIZED
    with pytest.raises(ssl.SSLCertVerificationError):
        mqtt(tls_port, *fleet_broker.credentials("b"), tls_ca=stranger_ca).connect()
    plain = mqtt(tls_port, *fleet_broker.credentials("b"))  # no TLS on the TLS port
    assert plain.connect() != "Success"  # the broker drops it before any CONNACK
    assert plain.disconnects.get_nowait() is not None


# CI runs as root (.ci/run installs the engines with apt), so there this always runs; a
# developer's unprivileged run cannot start a broker that drops privileges.
@pytest.mark.skipif(os.geteuid() != 0, reason="the broker drops privileges only when root")
def test_a_broker_started_as_root_runs_as_its_owner_on_the_generated_files(
    mqtt: PeerFactory,
) -> None:
    """As Debian's service runs it: started as root, Mosquitto becomes ``mosquitto`` before it
    reads the password file and writes its pid file; ``owner`` hands it what it needs."""
    folder = Path(tempfile.mkdtemp(prefix="lps-asroot-"))
    folder.chmod(0o755)
    port = free_port()
    password = broker.new_password()
    users = [broker.BrokerUser.with_password("a", password)]
    files, pid = dynsec.apply_broker_config(folder, users, "hub pw", port=port, owner="mosquitto")
    assert pid is None  # none running yet
    assert files.dynsec.stat().st_uid == pwd.getpwnam("mosquitto").pw_uid
    process = subprocess.Popen(
        ["/usr/sbin/mosquitto", "-c", str(files.conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(int(WAIT / 0.02)):
            if port_accepts(port) or process.poll() is not None:
                break
            time.sleep(0.02)
        assert process.poll() is None
        station = mqtt(port, "st-a", password)
        assert station.connect() == "Success"
        status = Path(f"/proc/{process.pid}/status").read_text()
        uid = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]
        assert int(uid) == pwd.getpwnam("mosquitto").pw_uid
        station.close()
        # A second station through the control topic: the plugin, running as mosquitto,
        # writes its file itself; the pid file it wrote names the running broker.
        assert broker.running_broker(files.pid_file) == process.pid
        with dynsec.BrokerControl("127.0.0.1", port, broker.HUB_USER, "hub pw") as control:
            control.add_station("b", password)
        assert mqtt(port, "st-b", password).connect() == "Success"
        assert files.dynsec.stat().st_uid == pwd.getpwnam("mosquitto").pw_uid
        assert "st-b" in files.dynsec.read_text()
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(folder)
