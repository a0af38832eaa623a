"""A fridge warming up, told over real SMTP (aiosmtpd on loopback): staff get the alert,
the recipient of the chilled parcel inside the request to come soon, in German."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from locker.cold.watch import ColdWatch
from locker.notify.config import NotifyConfig, SmtpConfig
from locker.notify.notifier import Notifier
from locker.notify.senders import SmtpMailer, WebhookPoster
from locker.services import deposit, intake
from locker.types import ColdKind
from tests.cold_support import ColdStation
from tests.mail_support import smtp_server, text_of
from tests.support import FakeClock


@pytest.fixture
def cold(tmp_path: Path, clock: FakeClock) -> Iterator[ColdStation]:
    made = ColdStation(tmp_path, clock)
    yield made
    made.close()


def test_staff_and_the_recipient_hear_of_a_warm_fridge(cold: ColdStation) -> None:
    station = cold.station
    watch = ColdWatch(station)
    watch.tick()
    data = intake.ParcelInput(
        carrier="Bio-Kiste",
        tracking_number="BK-7",
        recipient_name="Jonas",
        recipient_email="jonas@example.org",
        recipient_language="de",
        size=None,
        dimensions_mm=(200, 150, 300),
        cold=ColdKind.CHILLED,
    )
    held = deposit.reserve(station, actor="courier:test", parcel=data)
    assert deposit.deposit(station, actor="courier:test", parcel_id=held.parcel_id).opened
    cold.locks.put(held.compartment_id)
    cold.locks.close(held.compartment_id)
    deposit.confirm_stored(station, parcel_id=held.parcel_id)
    cold.fridge.set(12.5)
    for _ in range(11):
        cold.clock.advance(minutes=1)
        watch.tick()
    with smtp_server() as server:
        config = NotifyConfig(
            station_name="Corner grocer",
            smtp=SmtpConfig(host="127.0.0.1", port=server.port, timeout_s=5),
            staff_email="staff@shop.example",
        )
        assert config.smtp is not None
        notifier = Notifier(station, config, SmtpMailer(config.smtp), WebhookPoster())
        notifier.run_once()
        staff = server.mailbox.to("staff@shop.example")
        recipient = server.mailbox.to("jonas@example.org")
    assert [m["Subject"] for m in staff] == ["[Corner grocer] cold out of band: Corner grocer"]
    assert "cold group fridge (chilled, 2–8 °C)" in text_of(staff[0])
    assert "now 12.5 °C" in text_of(staff[0])
    subjects = [m["Subject"] for m in recipient]
    assert "Bitte holen Sie Ihr Paket bald ab: Corner grocer" in subjects
    code_mail = next(m for m in recipient if m["Subject"].startswith("Ihr Paket liegt bereit"))
    assert "Kühlware" in text_of(code_mail)
    warning = next(m for m in recipient if m["Subject"].startswith("Bitte holen"))
    assert f"Kühlfach {held.compartment_id}" in text_of(warning)
