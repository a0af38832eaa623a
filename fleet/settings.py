"""Hub settings: environment (``FLEET_*``) > ``.env`` file > defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEET_", env_file=".env", extra="ignore")

    database_url: SecretStr = SecretStr("postgresql+psycopg://fleet@127.0.0.1:5432/fleet")
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_user: str = "hub"
    mqtt_password: SecretStr = SecretStr("")
    # Each worker's MQTT client id is <prefix>-<n>: a restarted worker takes its persistent
    # session (and the messages it had not acknowledged) back.
    mqtt_client_prefix: str = "hub"
    # Mosquitto keeps giving a share of the messages to a worker's session while it is away, so
    # a worker that does not come back holds its share until the session expires; ingest's
    # resend fills what an expired session took with it.
    mqtt_session_expiry_s: int = Field(default=300, ge=0)
    mqtt_keepalive_s: int = Field(default=30, ge=5)
    # What `station add` prints for the station to reach the broker (default: mqtt_host/port).
    station_mqtt_host: str = ""
    station_mqtt_port: int = Field(default=0, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8100, ge=0, le=65535)
    data_dir: Path = Path("var/fleet")
    resend_every_s: float = Field(default=5.0, gt=0)  # a gap is asked for again after this
    token_hours: float = Field(default=12, gt=0)  # operators' bearer tokens
    recent_events: int = Field(default=50, ge=0)  # how many a station's page shows
