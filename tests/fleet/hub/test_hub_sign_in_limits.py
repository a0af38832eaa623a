"""Wrong passwords at the hub, tried from outside over real HTTP on a real PostgreSQL
(issue 25): every one of a parallel burst counts (no 500 from a race), the right password
after the burst is refused once the limit is reached; the limit is per network as well as
per name, and a stranger on another network cannot keep an operator locked out.

Clients come from different loopback addresses (tests/fleet/hub/live_hub.py): to the hub
they are different networks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from fleet.db import HubDatabase
from fleet.sign_in_limits import FREE_PER_NAME, FREE_PER_NETWORK, network_of
from tests.fleet.hub.live_hub import PASSWORD, LiveHub, live_hub

TOKEN = "/api/v1/auth/token"  # noqa: S105 (a path)


@pytest.fixture
def hub(hub_db: HubDatabase) -> Iterator[LiveHub]:
    with live_hub(hub_db) as served:
        yield served


def sign_in(hub: LiveHub, name: str, password: str, address: str) -> int:
    with hub.client(address) as http:
        return http.post(TOKEN, json={"name": name, "password": password}).status_code


def burst(hub: LiveHub, tries: list[tuple[str, str]], address: str) -> Counter[int]:
    """Every try at once, each on its own connection; the statuses answered."""
    statuses: list[int] = []
    start = threading.Barrier(len(tries))

    def one(name: str, password: str) -> None:
        with hub.client(address) as http:
            start.wait()
            statuses.append(http.post(TOKEN, json={"name": name, "password": password}).status_code)

    threads = [threading.Thread(target=one, args=t) for t in tries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == len(tries)
    return Counter(statuses)


def test_every_wrong_password_of_a_parallel_burst_counts(hub: LiveHub) -> None:
    answers = burst(hub, [("olga", f"wrong {i}") for i in range(20)], "127.0.0.2")
    assert answers == {401: FREE_PER_NAME, 429: 20 - FREE_PER_NAME}  # and no 500
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.2") == 429  # the right one, after


def test_a_burst_over_many_names_from_one_network_counts_every_one(hub: LiveHub) -> None:
    tries = [(f"name{i}", "wrong") for i in range(FREE_PER_NETWORK * 2)]
    answers = burst(hub, tries, "127.0.0.2")
    assert answers == {401: FREE_PER_NETWORK, 429: FREE_PER_NETWORK}
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.2") == 429


def test_a_stranger_cannot_keep_an_operator_locked_out(hub: LiveHub) -> None:
    for _ in range(FREE_PER_NAME):
        assert sign_in(hub, "olga", "guess", "127.0.0.2") == 401
    for _ in range(5):
        assert sign_in(hub, "olga", "guess", "127.0.0.2") == 429
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.2") == 429  # the stranger's network waits
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.3") == 200  # olga, from hers, does not


def test_one_network_trying_every_name_is_stopped(hub: LiveHub) -> None:
    for i in range(FREE_PER_NETWORK - 1):
        assert sign_in(hub, f"name{i}", "guess", "127.0.0.4") == 401
    # signing in to one's own account takes back only its own try: the guesses stay
    assert sign_in(hub, "ada", PASSWORD, "127.0.0.4") == 200
    assert sign_in(hub, "another", "guess", "127.0.0.4") == 401  # the 20th wrong one
    assert sign_in(hub, "yet another", "guess", "127.0.0.4") == 429
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.4") == 429  # a new name waits as well
    assert sign_in(hub, "olga", PASSWORD, "127.0.0.5") == 200  # another network does not


def test_an_ipv6_machine_counts_as_its_64_and_a_mapped_ipv4_as_itself() -> None:
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff::9")
    assert network_of("2001:db8:1:2::1") != network_of("2001:db8:1:3::1")
    assert network_of("::ffff:192.0.2.7") == network_of("192.0.2.7") == "192.0.2.7"
    assert network_of("192.0.2.7") != network_of("192.0.2.8")
    assert network_of(None) == "unknown"
