"""The topics' partitions, and how the hub's workers split them (fleet.partitions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.partitions import ALL, share
from locker.uplink.messages import PARTITIONS, partition, station_of, topic

NAMES = st.from_regex(r"[a-z0-9][a-z0-9-]{0,39}", fullmatch=True)


@given(NAMES)
def test_a_stations_topics_carry_its_partition_and_another_partition_is_refused(
    name: str,
) -> None:
    p = partition(name)
    assert 0 <= p < PARTITIONS
    assert topic(name, "evt") == f"lps/v2/p{p:02d}/{name}/evt"
    assert station_of(topic(name, "evt")) == (name, "evt")
    wrong = f"lps/v2/p{(p + 1) % PARTITIONS:02d}/{name}/evt"
    with pytest.raises(ValueError, match="not a station topic"):
        station_of(wrong)


def test_the_partition_is_the_names_alone_in_every_process() -> None:
    # Fixed by SHA-256, not by Python's per-process hash: these never change.
    assert [partition(n) for n in ("a", "b", "d", "g")] == [23, 35, 44, 10]


@given(st.integers(min_value=1, max_value=PARTITIONS))
def test_the_workers_share_every_partition_once_and_evenly(workers: int) -> None:
    shares = [share(i, workers) for i in range(workers)]
    assert frozenset().union(*shares) == ALL
    assert sum(len(s) for s in shares) == PARTITIONS
    assert max(len(s) for s in shares) - min(len(s) for s in shares) <= 1


def test_a_worker_outside_the_count_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of 2"):
        share(2, 2)
    with pytest.raises(ValueError, match="1 to 64 workers"):
        share(0, 65)
