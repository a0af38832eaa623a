"""How the hub's workers split the stations between them: by the topics' partition level.

Every station's topics carry its partition (``lps/v2/p07/S/evt``,
:func:`locker.uplink.messages.partition`). A hub runs ``FLEET_WORKERS`` workers, numbered
0 … n−1, and worker ``i`` subscribes to the partitions ``p`` with ``p % n == i``
(``$share/<group>/lps/v2/p07/+/evt``: one shared subscription a partition and kind), so all
the messages of one station go to one worker. Two workers' batches then never queue for
the same stations' rows, which is what lets a second worker add to the first.

A worker that is killed or restarted keeps its partitions: its persistent session (same
client id, ``FLEET_MQTT_SESSION_EXPIRY_S``) holds what comes for them until it is back, as
the shared group did for its share before. Hubs on several machines split the same way,
each worker with its own index of the same count; two workers given the same index share
their partitions through the group (stored once and in order all the same: the rows are
locked). A worker that stays away longer than its session leaves its stations' events on
the stations, which keep them until the hub asks for the gap.

The partitions are fixed by the count, not handed over between live workers: without a
coordinator, two workers acting on each other's older word could both let go of one
partition, and the broker would then drop its messages.
"""

from __future__ import annotations

from locker.uplink.messages import PARTITIONS

ALL = frozenset(range(PARTITIONS))


def share(index: int, workers: int) -> frozenset[int]:
    """The partitions of worker ``index`` of ``workers``."""
    if not 1 <= workers <= PARTITIONS:
        raise ValueError(f"a hub has 1 to {PARTITIONS} workers, not {workers}")
    if not 0 <= index < workers:
        raise ValueError(f"worker {index} is not one of {workers}")
    return frozenset(p for p in ALL if p % workers == index)
