"""The hub's errors; each carries a stable machine ``code`` and an HTTP status.

::

    FleetError
     ├── NotFound             station_not_found, command_not_found, account_not_found
     ├── NotAuthenticated     not_authenticated (no token, an unknown or ended one)
     ├── Forbidden            forbidden (the account's role may not do this)
     ├── LoginFailed          login_failed (the name or the password is wrong)
     ├── TooManyAttempts      too_many_attempts (wrong passwords: wait retry_after s)
     ├── AlreadyExists        station_exists, account_exists
     ├── InvalidName          invalid_name (a station name the topics cannot carry)
     ├── WeakPassword         weak_password
     ├── UnknownCommand       unknown_command (there is no such command, none opens a door)
     └── BadPayload           what ingest drops; its ``reason`` is counted:
                              not_json, bad_schema, unknown_topic, unknown_station,
                              station_mismatch, unknown_command, carries_code
                              (ingest also counts unstorable: PostgreSQL refused the
                              data; failed: the worker gave up on a message;
                              bad_event_data: an event kept whose effect was unreadable;
                              seq_reused: another event under a seq the hub has)
"""

from __future__ import annotations

from common.errors import CodedError, Missing, Throttled, whole_seconds


class FleetError(CodedError):
    code = "fleet_error"
    status = 400


class NotFound(FleetError, Missing):
    code = "not_found"
    status = 404


class NotAuthenticated(FleetError):
    code = "not_authenticated"
    status = 401


class Forbidden(FleetError):
    code = "forbidden"
    status = 403


class LoginFailed(FleetError):
    code = "login_failed"
    status = 401

    def __init__(self) -> None:
        super().__init__("The name or the password is wrong.")


class TooManyAttempts(FleetError, Throttled):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = whole_seconds(retry_after)
        super().__init__(
            f"Too many wrong passwords for this name. Wait {seconds} s and try again.", seconds
        )


class AlreadyExists(FleetError):
    code = "already_exists"
    status = 409

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} already exists")
        self.code = f"{what}_exists"


class InvalidName(FleetError):
    code = "invalid_name"
    status = 422


class WeakPassword(FleetError):
    code = "weak_password"
    status = 422


class UnknownCommand(FleetError):
    code = "unknown_command"
    status = 422


class BadPayload(FleetError):
    """A message ingest drops (counted by ``reason``); never answered over HTTP."""

    code = "bad_payload"
    status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
