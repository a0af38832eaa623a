"""Hub settings: environment (``FLEET_*``) > ``.env`` file > defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from locker.uplink.messages import PARTITIONS

_GROUP = re.compile(r"[A-Za-z0-9-]{16,80}")


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
    # The workers' shared-subscription group (no station may subscribe to it: fleet.broker):
    # empty, it is made on first use in <data_dir>/share-group, so every worker shares it;
    # give it to hubs on other machines (FLEET_MQTT_SHARE_GROUP) to share the load with them.
    mqtt_share_group: SecretStr = SecretStr("")
    # A worker's session keeps its partitions' messages while it is away (fleet.partitions);
    # one that does not come back before the session expires leaves its stations' events on
    # the stations, and ingest's resend asks for them once it is back.
    mqtt_session_expiry_s: int = Field(default=300, ge=0)
    mqtt_keepalive_s: int = Field(default=30, ge=5)
    # Ingest in batches (fleet.worker): up to this many messages in one transaction, waiting
    # at most this long for a batch to fill; the broker keeps up to mqtt_receive_maximum
    # messages unacknowledged in flight to a worker (at least two batches).
    ingest_batch_max: int = Field(default=500, ge=1, le=10_000)
    ingest_batch_wait_ms: float = Field(default=20, ge=0, le=1000)
    mqtt_receive_maximum: int = Field(default=2000, ge=1, le=65535)
    # How many workers the hub runs (`serve --workers` sets it for its own): worker i of n
    # takes the stations whose topics' partition p has p % n == i (fleet.partitions).
    workers: int = Field(default=1, ge=1, le=PARTITIONS)
    # What `station add` prints for the station to reach the broker (default: mqtt_host/port).
    station_mqtt_host: str = ""
    station_mqtt_port: int = Field(default=0, ge=0, le=65535)
    # ... and whether over TLS, trusting which CA file (printed as LOCKER_MQTT_TLS/_CA_FILE).
    station_mqtt_tls: bool = False
    station_mqtt_ca_file: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8100, ge=0, le=65535)
    # The hub is reached over HTTPS (its own TLS below, or a proxy's): the screens' cookies
    # are Secure and every answer has Strict-Transport-Security. Unset: on unless the hub
    # listens on loopback only (http_host 127.0.0.1 or another of 127/8, ::1, localhost).
    https: bool | None = None
    # TLS served by the hub itself (both, or neither: then a proxy in front gives it).
    http_tls_cert_file: Path | None = None
    http_tls_key_file: Path | None = None
    # Proxies (addresses, comma separated) whose X-Forwarded-For / -Proto the hub believes:
    # the sign-in limits count the client's address, not the proxy's. Empty: none.
    trusted_proxies: str = ""
    data_dir: Path = Path("var/fleet")
    resend_every_s: float = Field(default=5.0, gt=0)  # a gap is asked for again after this
    # A command the broker has not acknowledged is published again after this (while its
    # station is online; fleet.delivery).
    command_retry_s: float = Field(default=10.0, gt=0)
    # A gap is asked for once it is open this long (several workers take one station's
    # events out of order); the workers look for open gaps this often too.
    gap_grace_s: float = Field(default=2.0, ge=0)
    # A station offline this long raises the hub's "offline" alert (operators see it with
    # the station's own; routing never picks an offline station in any case).
    offline_alert_min: float = Field(default=10, ge=0)
    token_hours: float = Field(default=12, gt=0)  # operators' bearer tokens
    recent_events: int = Field(default=50, ge=0)  # how many a station's page shows
    # Carriers' webhooks: how often the workers look for due ones, and the hosts (names or
    # addresses, comma separated) that may be private; any other goes to public ones only.
    webhook_every_s: float = Field(default=0.5, gt=0)
    webhook_allow_hosts: str = ""
    # The stations' encrypted backups (fleet.station_backups): the newest this many are
    # kept per station, none larger than this.
    station_backups_keep: int = Field(default=7, ge=1, le=100)
    station_backup_max_mb: float = Field(default=2048, gt=0)

    def share_group(self) -> str:
        """The workers' share group: the setting, else the data dir's (made on first use)."""
        given = self.mqtt_share_group.get_secret_value()
        if not given:
            path = self.data_dir / "share-group"
            if not path.exists():
                from fleet.broker import new_share_group

                self.data_dir.mkdir(parents=True, exist_ok=True)
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:  # another worker made it meanwhile
                    pass
                else:
                    with os.fdopen(fd, "w") as out:
                        out.write(new_share_group() + "\n")
            given = path.read_text().strip()
        if not _GROUP.fullmatch(given):
            raise ValueError("the share group is 16 to 80 letters, digits or '-'")
        return given
