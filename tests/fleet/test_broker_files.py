"""The broker's files, checked without a broker: our password hash and mosquitto_passwd check
each other, the plugin's configuration gives each station a role of its own with literal
topics, names, hashes and duplicates are checked, the files are written whole and the
plugin's file (it holds the hashes) is private."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from fleet import broker, dynsec
from locker.uplink.messages import UP, every, topic


def test_our_hash_and_mosquitto_passwds_check_each_other(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(
        ["/usr/bin/mosquitto_passwd", "-c", "-b", str(passwd), "st-a", "s3cret"], check=True
    )
    theirs = passwd.read_text().strip().split(":", 1)[1]
    assert theirs.startswith("$7$101$")
    assert broker.check_password("s3cret", theirs)
    assert not broker.check_password("s3cret!", theirs)
    ours = broker.hash_password("s3cret")
    assert broker.check_password("s3cret", ours)
    assert ours != broker.hash_password("s3cret")  # a fresh salt each time


def test_each_station_has_a_role_of_its_own_with_literal_topics_only() -> None:
    users = [broker.BrokerUser.with_password(name, "x") for name in ("b", "a", "a-1")]
    config = broker.dynsec_config(users, broker.hash_password("h"))
    assert config["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": True,
    }
    clients = {c["username"]: [r["rolename"] for r in c["roles"]] for c in config["clients"]}
    assert clients == {
        "hub": ["hub", "broker-admin"],
        "st-a": ["st-a"],
        "st-a-1": ["st-a-1"],
        "st-b": ["st-b"],
    }
    roles = {r["rolename"]: r["acls"] for r in config["roles"]}
    for name in ("a", "a-1", "b"):
        acls = {(acl["acltype"], acl["topic"]) for acl in roles[f"st-{name}"]}
        assert acls == {
            *(("publishClientSend", topic(name, kind)) for kind in UP),
            ("publishClientReceive", topic(name, "cmd")),
            ("subscribeLiteral", topic(name, "cmd")),  # literal: no wildcard of its own
        }
        assert all(acl["allow"] for acl in roles[f"st-{name}"])
        assert not any("+" in t or "#" in t for _, t in acls)
    hub = {(acl["acltype"], acl["topic"]) for acl in roles["hub"]}
    assert ("publishClientSend", every("cmd")) in hub
    assert ("subscribePattern", f"$share/+/{every('evt')}") in hub
    assert not any(kind == "publishClientSend" and t != every("cmd") for kind, t in hub)
    admin = {acl["topic"] for acl in roles["broker-admin"]}
    assert admin == {"$CONTROL/dynamic-security/#"}


def test_the_registrys_hash_becomes_the_plugins_fields() -> None:
    hashed = broker.hash_password("s3cret")
    [_, client] = broker.dynsec_config([broker.BrokerUser("a", hashed)], hashed)["clients"]
    _, _, iterations, salt, key = hashed.split("$")
    assert (client["iterations"], client["salt"], client["password"]) == (
        int(iterations),
        salt,
        key,
    )


def test_names_hashes_and_duplicates_are_checked() -> None:
    for bad in ("", "A", "a/b", "+", "#", "a b", "-a", "x" * 41):
        with pytest.raises(broker.BrokerConfigError):
            broker.BrokerUser.with_password(bad, "x")
    with pytest.raises(broker.BrokerConfigError):
        broker.BrokerUser("a", "plain-text-password")
    twice = [broker.BrokerUser.with_password("a", "x"), broker.BrokerUser.with_password("a", "y")]
    with pytest.raises(broker.BrokerConfigError):
        broker.dynsec_config(twice, broker.hash_password("h"))
    assert re.fullmatch(r"hub-[0-9a-f]{32}", broker.new_share_group())


def test_files_are_written_whole_and_the_plugins_file_is_private(tmp_path: Path) -> None:
    users = [broker.BrokerUser.with_password("a", "pw")]
    files = broker.write_broker_files(tmp_path / "out", users, broker.hash_password("h"), port=1884)
    assert files.dynsec.stat().st_mode & 0o777 == 0o600
    conf = files.conf.read_text()
    for line in (
        "listener 1884 127.0.0.1",
        "allow_anonymous false",
        f"plugin {broker.DYNSEC_PLUGIN}",
        f"plugin_opt_config_file {files.dynsec}",
    ):
        assert line in conf.splitlines()
    assert "password_file" not in conf
    assert "acl_file" not in conf
    assert [c["username"] for c in json.loads(files.dynsec.read_text())["clients"]] == [
        "hub",
        "st-a",
    ]
    assert sorted(p.name for p in files.conf.parent.iterdir()) == [
        "dynamic-security.json",
        "mosquitto.conf",
        "persistence",
    ]


def test_a_pid_file_that_names_another_program_is_no_running_broker(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        pid_file = tmp_path / "mosquitto.pid"
        pid_file.write_text(f"{sleeper.pid}\n")
        assert broker.running_broker(pid_file) is None
        files, pid = dynsec.apply_broker_config(tmp_path, [], "pw")
        assert pid is None  # the files were written: the pid file is not a broker's
        assert files.dynsec.exists()
        assert sleeper.poll() is None  # left alone
    finally:
        sleeper.kill()
        sleeper.wait()
