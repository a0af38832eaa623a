"""What the notifier needs to know of the shop: where mail goes out, the shop's webhook,
the staff's address, and what a message says of the station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

TlsMode = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    tls: TlsMode = "none"
    user: str = ""
    password: str = ""
    timeout_s: float = 10.0
    sender: str = "pickup-station@localhost"
    ca_file: str = ""  # the CAs that may sign the server's certificate; "": the system's


@dataclass(frozen=True)
class NotifyConfig:
    station_name: str = "Pickup station"
    station_address: str = ""
    opening_hours: str = ""
    public_url: str = "http://127.0.0.1:8000"  # the start of the links in messages
    timezone: str = "UTC"  # times in messages are shown in it
    smtp: SmtpConfig | None = None  # None: no mail is sent (nor queued)
    staff_email: str = ""
    shop_webhook_url: str = ""
    shop_webhook_secret: str = ""
    give_up_after: timedelta = timedelta(hours=72)
    remind_before: timedelta = timedelta(hours=48)
    last_call_before: timedelta = timedelta(hours=24)
    customer_extend: timedelta = timedelta(days=3)
    customer_extensions: int = 1  # how often a recipient may extend by a link or the kiosk
