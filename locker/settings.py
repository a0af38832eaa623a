"""Station settings: arguments > environment (``LOCKER_*``) > ``.env`` file > defaults.

No secret has a default: the code key is created on first start in ``data_dir`` (or
read from ``key_file``) and never stored in the database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from locker.attempts import AttemptPolicy
from locker.station import Policy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCKER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    layout: Path | None = None  # None: the built-in demo layout on the simulator
    database: Path | None = None  # default: <data_dir>/station.db
    key_file: Path | None = None  # default: <data_dir>/code.key
    pin_digits: int = Field(default=10, ge=6, le=12)
    reservation_minutes: float = Field(default=15, gt=0)
    pickup_days: float = Field(default=7, gt=0)
    attempts_free: int = Field(default=3, ge=1)
    attempts_base_delay_s: float = Field(default=30, gt=0)
    attempts_max_delay_s: float = Field(default=3600, gt=0)
    attempts_station_per_hour: int = Field(default=60, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    poll_s: float = Field(default=0.5, gt=0)  # door watcher: seconds between reads
    door_left_open_s: float = Field(default=120, gt=0)  # alert after a door is open so long
    expiry_every_s: float = Field(default=30, gt=0)  # how often deadlines are checked
    session_hours: float = Field(default=12, gt=0)  # staff browser sessions
    token_hours: float = Field(default=12, gt=0)  # bearer tokens from /api/v1/auth/token
    device_token_days: float = Field(default=90, gt=0)  # a new courier's first token
    cookie_secure: bool = False  # set on a station served over https
    code_handover_hours: float = Field(default=24, gt=0)  # see locker.handover
    staff_contact: str = ""  # shown at the kiosk: how to reach the shop's staff
    kiosk_reset_s: float = Field(default=60, gt=0)  # the kiosk forgets an answer after this
    kiosk_clear_s: float = Field(default=20, gt=0)  # and a code typed but not sent after this

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "station.db"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "code.key"

    def policy(self) -> Policy:
        return Policy(
            pin_digits=self.pin_digits,
            reservation_ttl=timedelta(minutes=self.reservation_minutes),
            pickup_period=timedelta(days=self.pickup_days),
            attempts=AttemptPolicy(
                free_failures=self.attempts_free,
                base_delay_s=self.attempts_base_delay_s,
                max_delay_s=self.attempts_max_delay_s,
                station_failures_per_hour=self.attempts_station_per_hour,
            ),
        )
