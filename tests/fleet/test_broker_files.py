"""The broker's files, checked without a broker: our password hash and mosquitto_passwd check
each other, the ACL gives each station its own literal topics, names, hashes and duplicates
are checked, the files are written whole and the password file is private."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from fleet import broker
from locker.uplink.messages import UP


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


def test_acl_gives_each_station_its_own_literal_topics_only() -> None:
    users = [broker.BrokerUser.with_password(name, "x") for name in ("b", "a", "a-1")]
    acl = broker.acl_file(users)
    rules = [line for line in acl.splitlines() if line and not line.startswith("#")]
    assert all(line.split()[0] in ("user", "topic") for line in rules)  # no `pattern`
    assert not any("#" in line for line in rules)
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in acl.splitlines():
        if line.startswith("user "):
            current = line.split()[1]
            blocks[current] = []
        elif line.startswith("topic "):
            blocks[current].append(line)
    assert blocks["hub"] == [f"topic read lps/v1/+/{kind}" for kind in UP] + [
        "topic write lps/v1/+/cmd"
    ]
    for name in ("a", "a-1", "b"):
        assert blocks[f"st-{name}"] == [f"topic write lps/v1/{name}/{kind}" for kind in UP] + [
            f"topic read lps/v1/{name}/cmd"
        ]
    assert "+" not in "".join(
        line for user, rules in blocks.items() if user != "hub" for line in rules
    )


def test_names_hashes_and_duplicates_are_checked() -> None:
    for bad in ("", "A", "a/b", "+", "#", "a b", "-a", "x" * 41):
        with pytest.raises(broker.BrokerConfigError):
            broker.BrokerUser.with_password(bad, "x")
    with pytest.raises(broker.BrokerConfigError):
        broker.BrokerUser("a", "plain-text-password")
    twice = [broker.BrokerUser.with_password("a", "x"), broker.BrokerUser.with_password("a", "y")]
    with pytest.raises(broker.BrokerConfigError):
        broker.acl_file(twice)
    assert re.fullmatch(r"hub-[0-9a-f]{32}", broker.new_share_group())


def test_files_are_written_whole_and_the_password_file_is_private(tmp_path: Path) -> None:
    users = [broker.BrokerUser.with_password("a", "pw")]
    files = broker.write_broker_files(tmp_path / "out", users, broker.hash_password("h"), port=1884)
    assert files.passwd.stat().st_mode & 0o777 == 0o600
    conf = files.conf.read_text()
    for line in (
        "listener 1884 127.0.0.1",
        "allow_anonymous false",
        f"password_file {files.passwd}",
        f"acl_file {files.acl}",
    ):
        assert line in conf.splitlines()
    assert files.passwd.read_text().splitlines()[1].startswith("st-a:$7$")
    assert sorted(p.name for p in files.conf.parent.iterdir()) == [
        "acl",
        "mosquitto.conf",
        "passwd",
        "persistence",
    ]
