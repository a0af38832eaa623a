"""Accounts: argon2 passwords, one-time passwords, tokens and sessions as keyed hashes."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import extract_parameters
from sqlmodel import select

from locker.errors import TooManyAttempts
from locker.people import accounts, credentials, sign_in
from locker.people.identity import NotAuthenticated, PasswordChangeRequired, WeakPassword, hasher
from locker.people.sign_in import _DUMMY_HASH
from locker.station import Station
from locker.store.tables import Account, ApiToken, AttemptCounter, StaffSession
from locker.types import Role
from tests.support import FakeClock

PASSWORD = "a long enough password"


def test_first_start_creates_one_admin_whose_password_works_once(station: Station) -> None:
    one_time = accounts.ensure_admin(station)
    assert one_time is not None
    assert accounts.ensure_admin(station) is None  # only on the first start
    with pytest.raises(PasswordChangeRequired):
        sign_in.sign_in(station, name="admin", password=one_time)
    who = sign_in.sign_in(station, name="admin", password=one_time, new_password=PASSWORD)
    assert who.role is Role.ADMIN
    with pytest.raises(NotAuthenticated):
        sign_in.sign_in(station, name="admin", password=one_time)
    assert sign_in.sign_in(station, name="admin", password=PASSWORD) == who


def test_passwords_are_stored_as_argon2_hashes_only(station: Station) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="test", password=PASSWORD)
    with station.db.read() as session:
        row = session.exec(select(Account).where(Account.name == "mia")).one()
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    with pytest.raises(WeakPassword):
        accounts.create_account(station, name="tom", role=Role.STAFF, actor="t", password="short")


def test_wrong_passwords_are_limited_per_name(station: Station, clock: FakeClock) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    for _ in range(sign_in.LOGIN_POLICY.free_failures):
        with pytest.raises(NotAuthenticated):
            sign_in.sign_in(station, name="mia", password="wrong password")
    with pytest.raises(TooManyAttempts):  # even the right password must wait now
        sign_in.sign_in(station, name="mia", password=PASSWORD)
    clock.advance(seconds=sign_in.LOGIN_POLICY.base_delay_s + 1)
    assert sign_in.sign_in(station, name="mia", password=PASSWORD).name == "mia"


def test_one_client_spraying_a_password_over_many_names_must_wait(
    station: Station, clock: FakeClock
) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    for n in range(sign_in.LOGIN_FROM_POLICY.free_failures):
        with pytest.raises(NotAuthenticated):
            sign_in.sign_in(station, name=f"user{n}", password=PASSWORD, client="10.0.0.9")
    with pytest.raises(TooManyAttempts):
        sign_in.sign_in(station, name="mia", password=PASSWORD, client="10.0.0.9")
    assert sign_in.sign_in(station, name="mia", password=PASSWORD, client="10.0.0.7").name == "mia"
    clock.advance(seconds=sign_in.LOGIN_FROM_POLICY.base_delay_s + 1)
    assert sign_in.sign_in(station, name="mia", password=PASSWORD, client="10.0.0.9").name == "mia"


def test_a_right_password_takes_back_only_its_own_count(station: Station) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            sign_in.sign_in(station, name="ghost", password=PASSWORD, client="10.0.0.9")
    sign_in.sign_in(station, name="mia", password=PASSWORD, client="10.0.0.9")
    with station.db.read() as session:
        by_address = session.get(AttemptCounter, "terminal:login-from:10.0.0.9")
        by_name = session.get(AttemptCounter, "terminal:login:mia")
    assert by_address is not None
    assert by_address.consecutive == 3
    assert by_name is not None
    assert by_name.consecutive == 0


def test_parallel_wrong_passwords_cannot_slip_past_the_limit(station: Station) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    outcomes: list[str] = []

    def guess(n: int) -> None:
        try:
            sign_in.sign_in(station, name="mia", password=f"guess number {n}", client=f"c{n}")
        except (NotAuthenticated, TooManyAttempts) as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("not_authenticated") == sign_in.LOGIN_POLICY.free_failures
    assert outcomes.count("too_many_attempts") == 12 - sign_in.LOGIN_POLICY.free_failures


def test_no_write_lock_is_held_while_a_password_is_hashed(
    station: Station, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    verify = sign_in._verify
    free_while_hashing: list[bool] = []

    def watched(stored: str | None, password: str) -> bool:
        other = sqlite3.connect(tmp_path / "station.db", timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if anyone holds the write lock
            other.execute("ROLLBACK")
            free_while_hashing.append(True)
        except sqlite3.OperationalError:
            free_while_hashing.append(False)
        finally:
            other.close()
        return verify(stored, password)

    monkeypatch.setattr(sign_in, "_verify", watched)
    sign_in.sign_in(station, name="mia", password=PASSWORD, new_password="another passphrase")
    with pytest.raises(NotAuthenticated):
        sign_in.sign_in(station, name="mia", password="not the password")
    assert free_while_hashing == [True, True]


def test_unknown_names_and_wrong_passwords_look_the_same(station: Station) -> None:
    accounts.create_account(station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD)
    with pytest.raises(NotAuthenticated) as unknown:
        sign_in.sign_in(station, name="nobody", password=PASSWORD)
    with pytest.raises(NotAuthenticated) as wrong:
        sign_in.sign_in(station, name="mia", password="not the password")
    assert unknown.value.message == wrong.value.message


def test_tokens_are_kept_as_keyed_hashes_and_die_with_their_account(station: Station) -> None:
    made = accounts.create_account(
        station, name="kim", role=Role.COURIER, carrier="DHL", actor="t", with_token=True
    )
    assert made.token is not None
    assert made.token.startswith(credentials.TOKEN_PREFIX)
    assert credentials.principal_for_token(station, made.token) == made.principal
    assert credentials.principal_for_token(station, made.token + "x") is None
    with station.db.read() as session:
        stored = session.exec(select(ApiToken.token_hash)).all()
    assert made.token not in stored
    accounts.deactivate(station, account_id=made.principal.account_id, actor="admin")
    assert credentials.principal_for_token(station, made.token) is None


def test_sessions_check_their_csrf_token_and_expire(station: Station, clock: FakeClock) -> None:
    made = accounts.create_account(
        station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD
    )
    keys = credentials.start_session(station, made.principal, ttl=timedelta(hours=1))
    assert credentials.principal_for_session(
        station, keys.session_id, csrf_token=keys.csrf_token
    ) == (
        made.principal,
        True,
    )
    assert credentials.principal_for_session(station, keys.session_id, csrf_token="forged") == (
        made.principal,
        False,
    )
    with station.db.read() as session:
        row = session.exec(select(StaffSession)).one()
    assert keys.session_id not in (row.session_hash, row.csrf_hash)
    clock.advance(hours=2)
    assert credentials.principal_for_session(station, keys.session_id) is None


def test_a_reset_password_is_one_time_and_ends_sessions_and_tokens(station: Station) -> None:
    made = accounts.create_account(
        station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD
    )
    keys = credentials.start_session(station, made.principal, ttl=timedelta(hours=1))
    token = credentials.issue_token(station, made.principal, ttl=timedelta(hours=1)).token
    fresh = accounts.reset_password(station, name="mia", actor="shell")
    assert credentials.principal_for_session(station, keys.session_id) is None
    assert credentials.principal_for_token(station, token) is None
    with pytest.raises(PasswordChangeRequired):
        sign_in.sign_in(station, name="mia", password=fresh)


def test_a_changed_password_signs_the_account_out_everywhere(station: Station) -> None:
    made = accounts.create_account(
        station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD
    )
    other = accounts.create_account(
        station, name="tom", role=Role.STAFF, actor="t", password=PASSWORD
    )
    keys = credentials.start_session(station, made.principal, ttl=timedelta(hours=1))
    token = credentials.issue_token(station, made.principal, ttl=timedelta(hours=1)).token
    kept = credentials.issue_token(station, other.principal, ttl=timedelta(hours=1)).token
    sign_in.sign_in(station, name="mia", password=PASSWORD)  # no change: nothing ends
    assert credentials.principal_for_token(station, token) == made.principal
    sign_in.sign_in(station, name="mia", password=PASSWORD, new_password="another passphrase")
    assert credentials.principal_for_token(station, token) is None
    assert credentials.principal_for_session(station, keys.session_id) is None
    assert credentials.principal_for_token(station, kept) == other.principal  # only hers


def test_tokens_end_can_be_revoked_and_record_their_use(station: Station, clock: FakeClock) -> None:
    made = accounts.create_account(
        station, name="mia", role=Role.STAFF, actor="t", password=PASSWORD
    )
    issued = credentials.issue_token(station, made.principal, ttl=timedelta(hours=2))
    assert issued.expires_at == clock() + timedelta(hours=2)

    def last_used() -> object:
        with station.db.read() as session:
            return session.exec(select(ApiToken.last_used_at)).one()

    assert last_used() is None
    assert credentials.principal_for_token(station, issued.token) == made.principal
    first_use = clock()
    assert last_used() == first_use
    clock.advance(minutes=1)
    credentials.principal_for_token(station, issued.token)
    assert last_used() == first_use  # not a write on every request
    clock.advance(minutes=credentials.TOUCH_EVERY.total_seconds() / 60)
    credentials.principal_for_token(station, issued.token)
    assert last_used() == clock()

    clock.advance(hours=2)
    assert credentials.principal_for_token(station, issued.token) is None  # it has ended

    other = credentials.issue_token(station, made.principal, ttl=timedelta(hours=2)).token
    assert credentials.revoke_token(station, other, actor="staff:mia") is True
    assert credentials.principal_for_token(station, other) is None
    assert credentials.revoke_token(station, other, actor="staff:mia") is False
    assert credentials.revoke_token(station, "lps_unknown", actor="staff:mia") is False


def test_a_couriers_first_token_lasts_for_months(station: Station, clock: FakeClock) -> None:
    made = accounts.create_account(
        station, name="kim", role=Role.COURIER, carrier="DHL", actor="t", with_token=True
    )
    assert made.token is not None
    clock.advance(days=accounts.DEVICE_TOKEN_TTL.days - 1)
    assert credentials.principal_for_token(station, made.token) == made.principal
    clock.advance(days=2)
    assert credentials.principal_for_token(station, made.token) is None


def test_admins_may_do_what_staff_may_but_not_couriers_work(station: Station) -> None:
    admin = accounts.create_account(station, name="a", role=Role.ADMIN, actor="t").principal
    courier = accounts.create_account(
        station, name="c", role=Role.COURIER, carrier="DHL", actor="t"
    ).principal
    assert admin.has(Role.STAFF)
    assert not admin.has(Role.COURIER)
    assert not courier.has(Role.STAFF)
    assert courier.actor == "courier:c"


def test_the_unknown_name_hash_costs_what_a_real_one_costs() -> None:
    """Signing in as an unknown name checks a fixed hash instead; it must have the
    hasher's own parameters, or an unknown name would answer faster (or slower)."""
    assert extract_parameters(_DUMMY_HASH) == extract_parameters(hasher().hash("x" * 12))
    assert not hasher().check_needs_rehash(_DUMMY_HASH)
