"""Station settings: arguments > environment (``LOCKER_*``) > ``.env`` file > defaults.

No secret has a default: the code key is created on first start in ``data_dir`` (or
read from ``key_file``) and never stored in the database.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from locker.notify.config import NotifyConfig, SmtpConfig, TlsMode
from locker.notify.webhook_guard import WebhookGuard, WebhookUrlForbidden, allow_list
from locker.payments.provider import LinkProvider
from locker.people.attempts import AttemptPolicy
from locker.station import Policy
from locker.store.backups import BackupPolicy
from locker.uplink.messages import STATION_NAME

ZVT_SIM = "sim"  # zvt_host: the terminal simulator on loopback


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCKER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    layout: Path | None = None  # None: the built-in demo layout on the simulator
    database: Path | None = None  # default: <data_dir>/station.db
    key_file: Path | None = None  # default: <data_dir>/code.key
    pin_digits: int = Field(default=10, ge=6, le=12)
    reservation_minutes: float = Field(default=15, gt=0)
    pickup_days: float = Field(default=7, gt=0)
    # An announced parcel no courier brought in ends after this (the carrier is told).
    announcement_expiry_days: float = Field(default=7, gt=0)
    attempts_free: int = Field(default=3, ge=1)
    attempts_base_delay_s: float = Field(default=30, gt=0)
    attempts_max_delay_s: float = Field(default=3600, gt=0)
    attempts_station_per_hour: int = Field(default=60, ge=1)  # network clients together
    attempts_kiosk_max_delay_s: float = Field(default=60, gt=0)  # a paired kiosk's longest wait
    # A fleet hub (all four set, or the station runs alone as ever): this station's name
    # on the hub, the MQTT broker, its user and password (from `locker hub station add`),
    # and the key the hub signs its commands with (hex).
    hub_station: str = ""
    mqtt_host: str = ""
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_user: str = ""
    mqtt_password: str = ""
    hub_command_key: str = ""
    mqtt_keepalive_s: int = Field(default=30, ge=2, le=3600)
    # TLS to the broker: its certificate and name are always verified, against the system's
    # CAs or only those in this PEM file; a client certificate and key (PEM) if it asks.
    mqtt_tls: bool = False
    mqtt_ca_file: Path | None = None
    mqtt_client_cert: Path | None = None
    mqtt_client_key: Path | None = None
    # Without TLS the broker password goes in clear: refused unless the broker is on this
    # machine (loopback), or this says, in so many words, that anyone on the way may read it.
    mqtt_allow_plaintext_password_over_network: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    poll_s: float = Field(default=0.5, gt=0)  # door watcher: seconds between reads
    door_left_open_s: float = Field(default=120, gt=0)  # alert after a door is open so long
    expiry_every_s: float = Field(default=30, gt=0)  # how often deadlines are checked
    # Staff door openings: past this many in the window (station-wide) a further one needs
    # a second staff member's confirmation or an admin; the limit raises an alert.
    staff_open_limit: int = Field(default=5, ge=1)
    staff_open_window_s: float = Field(default=600, gt=0)
    # The simulator's hands (/api/v1/sim) need a staff session or this bearer token; empty:
    # a fresh one is made at each start and printed with the start-up lines.
    sim_token: SecretStr = SecretStr("")
    session_hours: float = Field(default=12, gt=0)  # staff browser sessions
    token_hours: float = Field(default=12, gt=0)  # bearer tokens from /api/v1/auth/token
    device_token_days: float = Field(default=90, gt=0)  # a new courier's first token
    cookie_secure: bool = False  # set on a station served over https
    code_handover_hours: float = Field(default=24, gt=0)  # see locker.handover
    staff_contact: str = ""  # shown at the kiosk: how to reach the shop's staff
    kiosk_reset_s: float = Field(default=60, gt=0)  # the kiosk forgets an answer after this
    kiosk_clear_s: float = Field(default=20, gt=0)  # and a code typed but not sent after this
    # What messages say of the station, and where their links lead.
    station_address: str = ""
    opening_hours: str = ""
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "UTC"  # for times in messages, e.g. "Europe/Berlin"
    shop_name: str = "Shop"  # the "carrier" of the shop's own orders (click & collect)
    # Mail: no host, no mail.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: TlsMode = "none"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = Field(default=10, gt=0)
    # With starttls/ssl the server's certificate and name are always verified, against
    # the system's CAs or only those in this PEM file (e.g. the shop's own CA).
    smtp_ca_file: Path | None = None
    mail_from: str = "pickup-station@localhost"
    staff_email: str = ""  # alerts go here at once
    # The shop's webhook: SMS and push to recipients, alerts to staff (signed JSON).
    shop_webhook_url: str = ""
    shop_webhook_secret: SecretStr = SecretStr("")
    # Webhooks go only to public addresses; these hosts (names or addresses, comma
    # separated) may be private, e.g. the shop's own server "shop.lan,10.0.0.5".
    webhook_allow_hosts: str = ""
    notify_every_s: float = Field(default=2, gt=0)  # how often the outbox is worked through
    notify_give_up_hours: float = Field(default=72, gt=0)  # then staff are alerted instead
    # Sent (or given up) notifications are removed with their events after this long.
    outbox_retention_days: float = Field(default=30, gt=0)
    remind_hours_before: float = Field(default=48, gt=0)  # the first reminder
    last_call_hours_before: float = Field(default=24, gt=0)  # the last one, on the last day
    customer_extend_days: float = Field(default=3, gt=0)  # one extension by link or kiosk
    customer_extensions: int = Field(default=1, ge=0)
    return_code_days: float = Field(default=14, gt=0)  # how long a return code works
    # Backups of the database (and the code key beside each), see locker.store.backups.
    backup_dir: Path | None = None  # default: <data_dir>/backups
    backup_every_hours: float = Field(default=24, gt=0)
    backup_keep: int = Field(default=7, ge=1)  # the newest kept; older ones are deleted
    # Off the SD card (locker.store.offsite): an encrypted copy of every backup goes into
    # this folder too (a USB stick, a mounted share; never made by the station), sealed with
    # the backup key (default <data_dir>/backup.key, made on first use; `locker db
    # backup-key` prints it to keep elsewhere). Copies are pruned as the backups are.
    backup_copy_to: Path | None = None
    backup_key_file: Path | None = None
    # With a hub: also send each encrypted backup to the hub's HTTPS address (signed in as
    # the station's broker user; the hub keeps the newest few and cannot read them). The
    # hub's certificate is checked against the system's CAs or this PEM file (default:
    # LOCKER_MQTT_CA_FILE). Plain http only to a hub on this machine.
    hub_backups: bool = False
    hub_url: str = ""
    hub_ca_file: Path | None = None
    # People (issue 17): a recipient may hold their parcels this many days in all; the
    # personal data of parcels that left is erased (a pseudonym left) after
    # retention_days, and backups older than that are deleted.
    hold_max_days: int = Field(default=14, ge=0, le=60)
    retention_days: float = Field(default=30, gt=0)
    # The kiosk's card terminal (ZVT over TCP, issue 28): no host, no terminal. "sim" starts
    # the terminal simulator on loopback (the demo does). The password is the terminal's
    # 6-digit one (the simulator's is made at start when none is set).
    zvt_host: str = ""
    zvt_port: int = Field(default=20007, ge=1, le=65535)
    zvt_password: SecretStr = SecretStr("")
    zvt_connect_timeout_s: float = Field(default=5, gt=0)
    zvt_ack_timeout_s: float = Field(default=5, gt=0)  # for the first answer to a command
    zvt_payment_timeout_s: float = Field(default=120, gt=0)  # the customer's time, then abort
    zvt_completion_timeout_s: float = Field(default=15, gt=0)  # after approval
    # Cooled compartments (issue 27): how long a chilled or frozen parcel waits, how long a
    # cold group may be out of its band (or its thermometer silent) before the alert, and
    # how often the door watcher's loop reads the thermometers.
    chilled_hours: float = Field(default=24, gt=0)
    frozen_hours: float = Field(default=12, gt=0)
    cold_out_of_band_minutes: float = Field(default=10, gt=0)
    cold_read_s: float = Field(default=30, gt=0)
    # Pay at pick-up (issue 28, locker.payments): the currency of amounts due, and pay by
    # link through Stripe (no key: no links). The API base is Stripe's own unless set (the
    # tests' and the demo's fake provider on loopback). The card terminal: LOCKER_ZVT_*.
    payment_currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = ""
    payment_check_every_s: float = Field(default=30, gt=0)  # asks the provider (lost webhooks)
    payment_retention_days: float = Field(default=3650, gt=0)  # the books: then deleted

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (e.g. UTC, Europe/Berlin)") from exc
        return name

    @field_validator("smtp_ca_file", "mqtt_ca_file", "mqtt_client_cert", "mqtt_client_key")
    @classmethod
    def _ca_file_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such CA file or certificate (PEM)")
        return path

    @field_validator("zvt_password")
    @classmethod
    def _zvt_password_digits(cls, password: SecretStr) -> SecretStr:
        text = password.get_secret_value()
        if text and not (len(text) == 6 and text.isascii() and text.isdigit()):
            raise ValueError("LOCKER_ZVT_PASSWORD is the terminal's password: 6 digits")
        return password

    @model_validator(mode="after")
    def _zvt_needs_password(self) -> Settings:
        if self.zvt_host not in ("", ZVT_SIM) and not self.zvt_password.get_secret_value():
            raise ValueError("LOCKER_ZVT_PASSWORD (6 digits) is needed with LOCKER_ZVT_HOST")
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.shop_webhook_url and not self.shop_webhook_secret.get_secret_value():
            raise ValueError("LOCKER_SHOP_WEBHOOK_SECRET is needed to sign the shop's webhook")
        return self

    @model_validator(mode="after")
    def _hub_is_whole(self) -> Settings:
        if not (self.hub_station or self.mqtt_host):
            return self
        if not (self.hub_station and self.mqtt_host):
            raise ValueError("a fleet hub needs both LOCKER_HUB_STATION and LOCKER_MQTT_HOST")
        if STATION_NAME.fullmatch(self.hub_station) is None:
            raise ValueError("LOCKER_HUB_STATION: lower-case letters, digits and dashes, up to 40")
        try:
            key = bytes.fromhex(self.hub_command_key)
        except ValueError as exc:
            raise ValueError("LOCKER_HUB_COMMAND_KEY must be hex") from exc
        if len(key) < 16:
            raise ValueError("LOCKER_HUB_COMMAND_KEY is needed (hex; `locker hub station add`)")
        if (self.mqtt_client_cert is None) != (self.mqtt_client_key is None):
            raise ValueError("LOCKER_MQTT_CLIENT_CERT and LOCKER_MQTT_CLIENT_KEY go together")
        if (self.mqtt_ca_file or self.mqtt_client_cert) and not self.mqtt_tls:
            raise ValueError("LOCKER_MQTT_CA_FILE and a client certificate need LOCKER_MQTT_TLS")
        risk = plaintext_password_risk(self)
        if risk and not self.mqtt_allow_plaintext_password_over_network:
            raise ValueError(risk)
        return self

    @model_validator(mode="after")
    def _hub_backups_have_a_hub(self) -> Settings:
        if not self.hub_backups:
            return self
        if not (self.hub_enabled and self.hub_url and self.mqtt_user and self.mqtt_password):
            raise ValueError(
                "LOCKER_HUB_BACKUPS needs a hub (LOCKER_HUB_STATION, LOCKER_MQTT_HOST, "
                "LOCKER_MQTT_USER, LOCKER_MQTT_PASSWORD) and LOCKER_HUB_URL (https://…)"
            )
        scheme, _, rest = self.hub_url.partition("://")
        host = rest.split("/")[0].rsplit(":", 1)[0].strip("[]")
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            raise ValueError(
                "LOCKER_HUB_URL must be https:// (plain http only to a hub on this machine): "
                "the station signs in with its broker password"
            )
        return self

    @model_validator(mode="after")
    def _webhook_goes_out(self) -> Settings:
        if self.shop_webhook_url:
            try:
                WebhookGuard(self.webhook_allowed_hosts).check_url(self.shop_webhook_url)
            except WebhookUrlForbidden as exc:
                raise ValueError(f"LOCKER_SHOP_WEBHOOK_URL: {exc.message}") from exc
        return self

    @model_validator(mode="after")
    def _stripe_is_whole(self) -> Settings:
        key = self.stripe_api_key.get_secret_value()
        if key and not self.stripe_webhook_secret.get_secret_value():
            raise ValueError("LOCKER_STRIPE_WEBHOOK_SECRET is needed to check Stripe's webhooks")
        return self

    def link_provider(self) -> LinkProvider | None:
        """Stripe, when a key is set (its SDK is loaded only then)."""
        key = self.stripe_api_key.get_secret_value()
        if not key:
            return None
        from locker.payments.stripe_link import StripeLinks

        secret = self.stripe_webhook_secret.get_secret_value()
        return StripeLinks(key, secret, api_base=self.stripe_api_base)

    @property
    def webhook_allowed_hosts(self) -> frozenset[str]:
        return allow_list(self.webhook_allow_hosts)

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "station.db"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "code.key"

    @property
    def backup_path(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    def backups(self) -> BackupPolicy:
        return BackupPolicy(
            folder=self.backup_path,
            every=timedelta(hours=self.backup_every_hours),
            keep=self.backup_keep,
            max_age=timedelta(days=self.retention_days),
            copy_to=self.backup_copy_to,
            backup_key=self.backup_key_path,
        )

    @property
    def backup_key_path(self) -> Path:
        return self.backup_key_file or self.data_dir / "backup.key"

    @property
    def hub_enabled(self) -> bool:
        return bool(self.hub_station and self.mqtt_host)

    def policy(self) -> Policy:
        return Policy(
            pin_digits=self.pin_digits,
            reservation_ttl=timedelta(minutes=self.reservation_minutes),
            pickup_period=timedelta(days=self.pickup_days),
            announcement_expiry=timedelta(days=self.announcement_expiry_days),
            attempts=AttemptPolicy(
                free_failures=self.attempts_free,
                base_delay_s=self.attempts_base_delay_s,
                max_delay_s=self.attempts_max_delay_s,
                station_failures_per_hour=self.attempts_station_per_hour,
                device_max_delay_s=self.attempts_kiosk_max_delay_s,
            ),
            staff_open_limit=self.staff_open_limit,
            staff_open_window=timedelta(seconds=self.staff_open_window_s),
            chilled_period=timedelta(hours=self.chilled_hours),
            frozen_period=timedelta(hours=self.frozen_hours),
            cold_out_of_band_after=timedelta(minutes=self.cold_out_of_band_minutes),
            currency=self.payment_currency,
        )

    def notify(self, station_name: str) -> NotifyConfig:
        smtp = (
            SmtpConfig(
                host=self.smtp_host,
                port=self.smtp_port,
                tls=self.smtp_tls,
                user=self.smtp_user,
                password=self.smtp_password.get_secret_value(),
                timeout_s=self.smtp_timeout_s,
                sender=self.mail_from,
                ca_file=str(self.smtp_ca_file or ""),
            )
            if self.smtp_host
            else None
        )
        return NotifyConfig(
            station_name=station_name,
            station_address=self.station_address,
            opening_hours=self.opening_hours,
            public_url=self.public_url.rstrip("/"),
            timezone=self.timezone,
            smtp=smtp,
            staff_email=self.staff_email,
            shop_webhook_url=self.shop_webhook_url,
            shop_webhook_secret=self.shop_webhook_secret.get_secret_value(),
            give_up_after=timedelta(hours=self.notify_give_up_hours),
            remind_before=timedelta(hours=self.remind_hours_before),
            last_call_before=timedelta(hours=self.last_call_hours_before),
            customer_extend=timedelta(days=self.customer_extend_days),
            customer_extensions=self.customer_extensions,
        )


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: a connection that never leaves this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def plaintext_password_risk(settings: Settings) -> str | None:
    """Why the station would not send its broker password, or None when it may: with TLS,
    without a password, or to a broker on loopback."""
    if settings.mqtt_tls or not settings.mqtt_password or is_loopback(settings.mqtt_host):
        return None
    return (
        f"LOCKER_MQTT_HOST {settings.mqtt_host!r} is not on this machine and LOCKER_MQTT_TLS "
        "is off: the station would send its broker password, and every event, in clear to "
        "anyone on the way. Set LOCKER_MQTT_TLS=true (and LOCKER_MQTT_CA_FILE for a private "
        "CA), or accept that risk with LOCKER_MQTT_ALLOW_PLAINTEXT_PASSWORD_OVER_NETWORK=true"
    )
