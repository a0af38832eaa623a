"""The band logic of a cold group over time, with a clock the test controls: any sequence
of readings in band, out of band and unanswered, checked against what the rule says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from locker.cold.band import ColdStatus, Tracker
from locker.cold.groups import Band

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
AFTER = timedelta(minutes=10)
FRIDGE = Band(2.0, 8.0)

# A reading: seconds since the one before, and what it said (None: no answer).
readings = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=400),
        st.one_of(
            st.none(),
            st.floats(min_value=2.0, max_value=8.0),  # in band
            st.floats(min_value=8.01, max_value=30.0),  # too warm
            st.floats(min_value=-25.0, max_value=1.99),  # too cold
        ),
    ),
    max_size=60,
)
statuses = st.sampled_from(list(ColdStatus))


def run(start: ColdStatus, series: list[tuple[int, float | None]]) -> list[Tracker]:
    tracker = Tracker(FRIDGE, AFTER, start)
    at = START
    seen = []
    for gap, celsius in series:
        at += timedelta(seconds=gap)
        tracker = tracker.feed(at, celsius)
        seen.append(tracker)
    return seen


def expected(start: ColdStatus, series: list[tuple[datetime, float | None]]) -> ColdStatus:
    """The rule, read straight from the readings (not from the tracker's state)."""
    now = series[-1][0]
    ins = [i for i, (_, c) in enumerate(series) if c is not None and FRIDGE.holds(c)]
    last_in = ins[-1] if ins else None
    if last_in == len(series) - 1:
        return ColdStatus.OK
    streak = series[(last_in + 1) if last_in is not None else 0 :]
    silent = []
    for at, c in reversed(streak):
        if c is not None:
            break
        silent.append(at)
    if silent and now - silent[-1] >= AFTER:
        return ColdStatus.SILENT
    if any(c is not None for _, c in streak) and now - streak[0][0] >= AFTER:
        return ColdStatus.OUT_OF_BAND
    # A short excursion changes nothing, but a silence long enough earlier in the streak
    # had made it silent (and only an answer ends that: in band, or out of band past AFTER).
    before = expected(start, series[: last_in + 1]) if last_in is not None else start
    for i in range(len(streak)):
        run_start = None
        for at, c in streak[: i + 1]:
            run_start = (run_start or at) if c is None else None
        if run_start is not None and streak[i][0] - run_start >= AFTER:
            before = ColdStatus.SILENT
    return before


@given(start=statuses, series=readings)
def test_the_status_is_what_the_readings_say(
    start: ColdStatus, series: list[tuple[int, float | None]]
) -> None:
    trackers = run(start, series)
    at = START
    timed = []
    for (gap, celsius), tracker in zip(series, trackers, strict=True):
        at += timedelta(seconds=gap)
        timed.append((at, celsius))
        assert tracker.status is expected(start, timed), timed


@given(start=statuses, series=readings)
def test_only_a_reading_in_band_opens_a_group(
    start: ColdStatus, series: list[tuple[int, float | None]]
) -> None:
    status = start
    for (_, celsius), tracker in zip(series, run(start, series), strict=True):
        if tracker.status is ColdStatus.OK and status is not ColdStatus.OK:
            assert celsius is not None
            assert FRIDGE.holds(celsius)
        status = tracker.status


@given(series=readings)
def test_nothing_is_raised_before_the_grace_has_passed(
    series: list[tuple[int, float | None]],
) -> None:
    """An open door, a warm parcel put in: out of band for less than AFTER raises nothing."""
    elapsed = 0
    for (gap, _), tracker in zip(series, run(ColdStatus.OK, series), strict=True):
        elapsed += gap
        if elapsed < AFTER.total_seconds():
            assert tracker.status is ColdStatus.OK


def test_a_silent_sensor_is_never_in_band() -> None:
    trackers = run(ColdStatus.OK, [(60, None)] * 11)
    assert [t.status for t in trackers][-2:] == [ColdStatus.OK, ColdStatus.SILENT]
    assert run(ColdStatus.OK, [(60, 5.0), *[(60, None)] * 10])[-1].status is ColdStatus.OK
    assert run(ColdStatus.OK, [(60, 5.0), *[(60, None)] * 11])[-1].status is ColdStatus.SILENT


def test_too_warm_then_silent_stays_out_of_band_until_the_silence_is_long() -> None:
    trackers = run(ColdStatus.OK, [(60, 12.0)] * 11 + [(60, None)] * 11)
    assert trackers[9].status is ColdStatus.OK  # nine minutes too warm: nothing yet
    assert trackers[10].status is ColdStatus.OUT_OF_BAND
    assert trackers[20].status is ColdStatus.OUT_OF_BAND  # silent for nine minutes
    assert trackers[21].status is ColdStatus.SILENT
    back = Tracker(FRIDGE, AFTER, ColdStatus.SILENT).feed(START, 6.5)
    assert back.status is ColdStatus.OK


def test_a_freezer_has_no_floor() -> None:
    freezer = Tracker(Band(None, -18.0), AFTER, ColdStatus.OK)
    assert freezer.feed(START, -40.0).status is ColdStatus.OK
    warm = freezer.feed(START, -10.0).feed(START + AFTER, -12.0)
    assert warm.status is ColdStatus.OUT_OF_BAND
