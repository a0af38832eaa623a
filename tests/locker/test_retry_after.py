"""The wait a refused guesser is told is never shorter than the real one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.errors import TooManyAttempts


@pytest.mark.parametrize(("wait", "told"), [(0.2, 1), (1.0, 1), (1.4, 2), (29.5, 30), (59.01, 60)])
def test_retry_after_is_rounded_up(wait: float, told: int) -> None:
    assert TooManyAttempts(wait).retry_after == told


@given(st.floats(min_value=0.0, max_value=7 * 24 * 3600.0))
def test_retry_after_never_earlier_than_the_wait(wait: float) -> None:
    told = TooManyAttempts(wait).retry_after
    assert told >= wait
    assert told >= 1
    assert str(told) in TooManyAttempts(wait).message
