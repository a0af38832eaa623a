"""Mail over TLS to a real SMTP server on loopback (aiosmtpd) whose certificate was made
in the test: STARTTLS and TLS from the first byte both deliver when the station trusts
the test's CA (LOCKER_SMTP_CA_FILE), and both refuse a server whose certificate no
trusted CA signed: no mail goes out, the error is kept on the delivery (retried
later), and the station serves on."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from locker.codes import group_pin
from locker.runtime.settings import Settings
from tests.api.http_helpers import API, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.mail_support import smtp_server, text_of
from tests.notify.test_mail import MAIL, store
from tests.tls_support import make_pki

Mode = Literal["starttls", "ssl"]
MODES: tuple[Mode, ...] = ("starttls", "ssl")


def _mail(live: LiveStation) -> list[dict[str, Any]]:
    with live.client("staff") as staff:
        listed: list[dict[str, Any]] = ok(staff.get(f"{API}/notifications"))
    return [d for d in listed if d["channel"] == "email"]


@pytest.mark.parametrize("mode", MODES)
def test_mail_goes_out_over_tls_to_a_server_the_station_trusts(tmp_path: Path, mode: Mode) -> None:
    pki = make_pki(tmp_path / "pki")
    with smtp_server(tls=mode, context=pki.server_context()) as server:
        settings = {
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_tls": mode,
            "smtp_ca_file": pki.ca_file,
            **MAIL,
        }
        with live_station(tmp_path, **settings) as live:
            _, _, code = store(live, tracking=f"TRK-{mode}", email="ada@example.org")
            wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 1)
            mail = server.mailbox.to("ada@example.org")[0]
            assert f"Your PIN: {group_pin(code['pin'])}" in text_of(mail)
            assert server.mailbox.over_tls == [True]
            [delivery] = _mail(live)
            assert delivery["state"] == "sent"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trust", ["system CAs", "another CA"])
def test_a_certificate_no_trusted_ca_signed_is_refused(
    tmp_path: Path, mode: Mode, trust: str
) -> None:
    pki = make_pki(tmp_path / "pki")
    settings: dict[str, object] = {"smtp_tls": mode, **MAIL}
    if trust == "another CA":
        settings["smtp_ca_file"] = make_pki(tmp_path / "other", label="Other").ca_file
    with smtp_server(tls=mode, context=pki.server_context()) as server:
        settings |= {"smtp_host": "127.0.0.1", "smtp_port": server.port}
        with live_station(tmp_path, **settings) as live:
            store(live, tracking=f"TRK-NO-{mode}", email="ada@example.org")
            wait_until(lambda: any(d["last_error"] for d in _mail(live)))
            [delivery] = _mail(live)
            assert delivery["state"] == "pending"  # tried again later, never sent in clear
            assert "CERTIFICATE_VERIFY_FAILED" in delivery["last_error"]
            assert delivery["sent_at"] is None
            assert server.mailbox.messages == []
            with live.client(None) as anyone:  # the station serves on
                assert anyone.get("/healthz").status_code == 200


def test_a_missing_ca_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such CA file"):
        Settings(smtp_ca_file=tmp_path / "nowhere.pem", _env_file=None)  # type: ignore[call-arg]
