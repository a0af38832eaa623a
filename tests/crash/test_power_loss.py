"""Power loss on the database (issue 7).

1. Every connection the station opens runs in WAL mode with ``synchronous=FULL``: a commit
   returns only once its WAL frames are on disk.
2. Crash images: ``locker serve`` works through deposits and collections while it is frozen
   (SIGSTOP) at every crash point of every door operation and at random moments, and
   ``station.db`` and ``station.db-wal`` (not the ``-shm`` index) are copied each time. Each
   copy opens, passes ``PRAGMA integrity_check``, holds the invariants, is a prefix of the
   real history, and holds every operation the client saw acknowledged before the stop;
   ``locker serve`` starts on a few of them (reconcile settles what they left open).
   A frozen process's files are what SIGKILL at that instant leaves: a process crash.
3. Torn writes: a power cut in the middle of appending to the WAL leaves a partial frame or
   a partial transaction. The copied WALs are cut at random bytes inside their last
   transaction (and elsewhere); SQLite must recover exactly the state of the last whole
   commit before the cut, with everything acknowledged before that transaction began.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from locker.store.db import Database
from locker.testkit import crashpoints
from tests.crash import dbview, wal
from tests.crash.station_process import StationProcess, free_port, wait_for
from tests.crash.world import World, crash_world

STREAM_OPS = 10  # deposits and collections by the client while the station is frozen often
RANDOM_STOPS = 16  # stops at random moments, besides one at every crash point
TORN_COPIES = 6  # copies whose WAL is cut
CUTS_IN_LAST = 3  # cuts inside the last transaction of each, plus one deeper and one in the header
# Copies whose door operation committed its intent after every answer the client had:
# the last commit in their WAL came after every acknowledgement.
AFTER_INTENT = tuple(p for p in crashpoints.DOOR_POINTS if p != crashpoints.BEFORE_INTENT_COMMIT)

Ack = tuple[str, int]  # (what the client was told, parcel id)


def test_every_connection_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    db.upgrade()
    seen: list[tuple[str, int]] = []
    hold = threading.Barrier(3)

    def look(write: bool) -> None:
        with db.write() if write else db.read() as session:
            connection = session.connection()
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            seen.append((str(mode), int(str(sync))))
            hold.wait(timeout=30)  # three connections open at once: three from the pool

    workers = [threading.Thread(target=look, args=(w,)) for w in (True, False, False)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    db.close()
    assert seen == [("wal", 2)] * 3  # synchronous 2 is FULL
    assert (tmp_path / "station.db").read_bytes()[18:20] == b"\x02\x02"  # WAL, in the file


@dataclass(frozen=True)
class Copy:
    n: int
    label: str  # the crash point the station stopped at, or "random"
    folder: Path  # station.db and station.db-wal as they were, never opened
    acked: tuple[Ack, ...]

    @property
    def wal_bytes(self) -> bytes:
        return (self.folder / "station.db-wal").read_bytes()


def _stream(world: World, acks: list[Ack], rng: random.Random) -> None:
    for _ in range(STREAM_OPS):
        if world.waiting and (len(world.waiting) >= 3 or rng.random() < 0.4):
            parcel = world.waiting[0]
            world.collect(parcel)
            acks.append(("collected", parcel.pid))
            continue
        pid, cid = world.reserve()
        acks.append(("reserved", pid))
        world.open_for_deposit(pid, cid)
        acks.append(("opened", pid))
        world.fill_and_confirm(pid, cid)
        acks.append(("stored", pid))


def _take(world: World, n: int, label: str, acked: list[Ack], into: Path) -> Copy:
    folder = into / f"{n:03d}-{label}"
    folder.mkdir(parents=True)
    for name in ("station.db", "station.db-wal"):  # the process is frozen: a still image
        shutil.copyfile(world.station.data_dir / name, folder / name)
    return Copy(n, label, folder, tuple(acked))


def _copies_while_working(world: World, into: Path, rng: random.Random) -> list[Copy]:
    """Run the client's stream; copy the files at every stop, ours or the station's own."""
    acks: list[Ack] = []
    failed: list[BaseException] = []

    def client() -> None:
        try:
            _stream(world, acks, rng)
        except BaseException as exc:  # handed to the test below
            failed.append(exc)

    thread = threading.Thread(target=client, name="crash-client")
    thread.start()
    copies: list[Copy] = []
    points_seen = 0
    random_stops = 0
    try:
        while thread.is_alive() or world.station.frozen():
            time.sleep(rng.uniform(0, 0.05))
            if not world.station.frozen():
                if random_stops >= RANDOM_STOPS or rng.random() > 0.3:
                    continue
                os.kill(world.station.pid, signal.SIGSTOP)
                wait_for("the station to freeze", world.station.frozen)
            points = world.station.crash_points()
            label = points[-1] if len(points) > points_seen else "random"
            random_stops += label == "random"
            points_seen = len(points)
            copies.append(_take(world, len(copies), label, list(acks), into))
            os.kill(world.station.pid, signal.SIGCONT)
    finally:
        if world.station.process is not None and world.station.frozen():
            os.kill(world.station.pid, signal.SIGCONT)
        thread.join(timeout=120)
    assert not failed, failed
    return copies


def _open_copy(copy: Copy, into: Path, wal_bytes: bytes | None = None) -> Path:
    """A working copy (opening one runs recovery and changes its files)."""
    folder = into / copy.folder.name
    folder.mkdir(parents=True)
    shutil.copyfile(copy.folder / "station.db", folder / "station.db")
    (folder / "station.db-wal").write_bytes(copy.wal_bytes if wal_bytes is None else wal_bytes)
    return folder / "station.db"


def _missing(snap: dbview.Snapshot, acked: tuple[Ack, ...]) -> list[Ack]:
    """Acknowledged operations the snapshot does not show."""
    at_least = {
        "reserved": ("reserved", "stored", "collected"),
        "opened": ("reserved", "stored", "collected"),
        "stored": ("stored", "collected"),
        "collected": ("collected",),
    }
    lost = []
    for what, pid in acked:
        parcel = snap.parcels.get(pid)
        ok = parcel is not None and parcel["state"] in at_least[what]
        if ok and what == "opened" and parcel is not None and parcel["state"] == "reserved":
            ok = parcel["door_opened_at"] is not None
        if not ok:
            lost.append((what, pid))
    return lost


def _same_state(a: dbview.Snapshot, b: dbview.Snapshot) -> bool:
    return (a.parcels, a.compartments, a.door_ops, a.codes, a.audit) == (
        b.parcels,
        b.compartments,
        b.door_ops,
        b.codes,
        b.audit,
    )


def _serve_on(
    copy: Copy, into: Path, world: World, key: Path, wal_bytes: bytes | None = None
) -> tuple[int, int]:
    """``locker serve`` on a copy (its own simulator on a pty): it starts, settles every
    intent the copy left open, answers, and holds the invariants.
    Returns (intents left open, intents settled)."""
    looked = _open_copy(copy, into / "looked", wal_bytes)
    pending = sum(
        o["outcome"] is None for o in dbview.snapshot(looked, read_only=False).door_ops.values()
    )
    path = _open_copy(copy, into / "served", wal_bytes)
    shutil.copyfile(key, path.parent / "code.key")
    station = StationProcess(
        path.parent, world.station.layout, path.parent, free_port(), args=("--sim",)
    )
    station.start()
    try:
        settled = station.settled()
        assert dbview.problems(dbview.snapshot(path), settled=True) == []
    finally:
        station.stop()
    assert len(settled) == pending, (settled, pending)
    return pending, len(settled)


def test_copies_of_a_working_station_and_torn_wals_recover(tmp_path: Path) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("LOCKER_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    stop_everywhere = {
        crashpoints.ENV: ",".join(f"{p}:*" for p in crashpoints.POINTS),
        crashpoints.SIGNAL_ENV: "STOP",
    }
    with crash_world(tmp_path / "station", crash=stop_everywhere) as world:
        copies = _copies_while_working(world, tmp_path / "copies", rng)
        final = world.agree()
        world.station.stop()
    key = world.station.data_dir / "code.key"
    labels = {c.label for c in copies}
    unpaid = {crashpoints.AFTER_CHARGE_INTENT, crashpoints.AFTER_APPROVAL}  # money due only
    assert labels == {*crashpoints.POINTS, "random"} - unpaid, labels

    # Every copy: a crash image of the process at that instant.
    work = tmp_path / "work"
    for copy in copies:
        path = _open_copy(copy, work)
        assert dbview.integrity(path) == "ok", copy
        snap = dbview.snapshot(path, read_only=False)
        assert dbview.problems(snap, settled=False) == [], copy
        assert _missing(snap, copy.acked) == [], copy
        assert final.audit[: len(snap.audit)] == snap.audit, f"{copy}: not a prefix of history"

    # locker serve starts on a copy frozen at each step with an intent left open, and one
    # frozen at random.
    served = []
    for label in (*AFTER_INTENT[:3], "random"):
        copy = next(c for c in copies if c.label == label)
        served.append(_serve_on(copy, tmp_path / f"serve-{label}", world, key))

    # Frozen after an intent commit, a copy has that intent open: a start had to settle it.
    assert all(pending >= 1 for pending, _ in served[:-1]), served

    # Torn appends: cut the WAL of copies frozen after an intent commit.
    candidates = [
        c for c in copies if c.label in AFTER_INTENT and len(wal.commit_ends(c.wal_bytes)) > 2
    ]
    assert len(candidates) >= TORN_COPIES
    torn = 0
    cut_copies = rng.sample(candidates, TORN_COPIES)
    for i, copy in enumerate(cut_copies):
        data = copy.wal_bytes
        ends = wal.commit_ends(data)
        prefix: dict[int, dbview.Snapshot] = {}
        cuts = [rng.randrange(ends[-2] + 1, ends[-1]) for _ in range(CUTS_IN_LAST)]
        cuts += [rng.randrange(wal.HEADER + 1, ends[-2] + 1), rng.randrange(0, wal.HEADER)]
        for j, cut in enumerate(cuts):
            whole = max(e for e in ends if e <= cut) if cut >= wal.HEADER else wal.HEADER
            if whole not in prefix:
                ref = _open_copy(copy, tmp_path / f"prefix-{i}-{whole}", data[:whole])
                prefix[whole] = dbview.snapshot(ref, read_only=False)
            path = _open_copy(copy, tmp_path / f"torn-{i}-{j}", data[:cut])
            assert dbview.integrity(path) == "ok", (copy, cut)
            snap = dbview.snapshot(path, read_only=False)
            assert _same_state(snap, prefix[whole]), (copy, cut, whole)
            assert dbview.problems(snap, settled=False) == [], (copy, cut)
            if cut > ends[-2]:  # the cut hit the last transaction: all acked is still there
                assert _missing(snap, copy.acked) == [], (copy, cut)
            torn += 1
    # And locker serve starts on a torn one.
    tear = candidates[0]
    ends = wal.commit_ends(tear.wal_bytes)
    cut = rng.randrange(ends[-2] + 1, ends[-1])
    served.append(_serve_on(tear, tmp_path / "serve-torn", world, key, tear.wal_bytes[:cut]))

    by_label = {label: sum(c.label == label for c in copies) for label in sorted(labels)}
    mid_append = sum(
        bool(frames) and not frames[-1].commit
        for frames in (wal.frames(c.wal_bytes) for c in copies)
    )
    print(
        f"\npower loss (LOCKER_CRASH_SEED={seed}): {len(copies)} copies of the frozen station "
        f"{by_label}, {mid_append} of them caught with uncommitted frames at the WAL's end, "
        f"{torn} torn WALs from {TORN_COPIES} copies (WAL frames: "
        f"{', '.join(str(len(wal.frames(c.wal_bytes))) for c in cut_copies)}), "
        f"locker serve on {len(served)} of them (intents settled: "
        f"{[n for _, n in served]}), {time.monotonic() - started:.1f} s"
    )
