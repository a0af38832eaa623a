"""Mail over real SMTP (aiosmtpd on loopback): the recipient gets the PIN, the QR image
inline (decoded back to the token from its pixels), the deadline, the station's address
and opening hours, in their language; reminders, an extension and the collection follow."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from locker.codes import group_pin
from locker.store.tables import OutboxEvent
from tests.api.http_helpers import API, deposit, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.mail_support import SmtpServer, qr_in, smtp_server, text_of

MAIL = {
    "station_address": "Hauptstraße 1, 10115 Berlin",
    "opening_hours": "Mo-Sa 8-20",
    "notify_every_s": 0.05,
    "expiry_every_s": 0.05,
}


def mail_settings(server: SmtpServer) -> dict[str, object]:
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port, **MAIL}


def store(live: LiveStation, **parcel: object) -> tuple[int, int, dict[str, object]]:
    with live.client("courier") as courier:
        parcel_id, compartment = deposit(courier, **parcel)
        live.sim.put(compartment)
        live.sim.close(compartment)
        confirmed = ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))
    return parcel_id, compartment, confirmed["code"]


def test_the_recipient_gets_the_code_by_mail_with_a_qr_image(tmp_path: Path) -> None:
    with smtp_server() as server, live_station(tmp_path, **mail_settings(server)) as live:
        parcel_id, compartment, code = store(live, tracking="TRK-M1", email="ada@example.org")
        wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 1)
        mail = server.mailbox.to("ada@example.org")[0]
        assert mail["Subject"] == "Your parcel is ready at Test station"
        body = text_of(mail)
        assert f"Your PIN: {group_pin(code['pin'])}" in body
        assert f"compartment {compartment}" in body
        assert "Hauptstraße 1, 10115 Berlin" in body
        assert "Opening hours: Mo-Sa 8-20" in body
        assert "Please collect it by 2026-11-08 09:00" in body  # 7 days after the test clock
        assert qr_in(mail) == code["qr_token"]  # the picture is the token
        assert mail["Message-ID"].startswith("<delivery-")
        # the code is kept sealed only until its message went out
        wait_until(lambda: _sealed_left(live) == 0)

        # the customer collects: a receipt follows
        with live.client(None) as customer:
            ok(customer.post(f"{API}/collect", json={"code": code["pin"]}))
        wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 2)
        assert server.mailbox.to("ada@example.org")[1]["Subject"] == "Your parcel was collected"


def _sealed_left(live: LiveStation) -> int:
    with live.runtime.station.db.read() as session:
        return len(
            session.exec(select(OutboxEvent).where(col(OutboxEvent.sealed).is_not(None))).all()
        )


def test_german_reminders_an_extension_by_link_and_the_last_call(tmp_path: Path) -> None:
    with smtp_server() as server, live_station(tmp_path, **mail_settings(server)) as live:
        parcel_id, _, code = store(
            live, tracking="TRK-DE", email="grete@example.de", recipient_language="de"
        )
        inbox = lambda: server.mailbox.to("grete@example.de")  # noqa: E731
        wait_until(lambda: len(inbox()) == 1)
        first = inbox()[0]
        assert first["Subject"] == "Ihr Paket liegt bereit: Test station"
        assert f"Ihre PIN: {group_pin(code['pin'])}" in text_of(first)
        assert "Öffnungszeiten: Mo-Sa 8-20" in text_of(first)

        live.clock.advance(days=5, hours=1)  # 47 h before the deadline: the reminder
        wait_until(lambda: len(inbox()) == 2)
        reminder = inbox()[1]
        assert reminder["Subject"] == "Erinnerung: Ihr Paket wartet in der Test station"
        link = next(word for word in text_of(reminder).split() if word.startswith("http")).rstrip(
            "."
        )
        assert "/extend/" in link

        # the link gives three more days, once
        path = link.split("127.0.0.1:8000", 1)[1]
        with live.client(None) as browser:
            page = browser.get(path)
            assert page.status_code == 200
            extended = browser.post(path)
            assert extended.status_code == 200
            assert "2026-11-11 09:00" in extended.text
            again = browser.post(path)
            assert again.status_code == 409
        wait_until(lambda: len(inbox()) == 3)
        assert inbox()[2]["Subject"] == "Mehr Zeit für Ihr Paket in der Test station"

        live.clock.advance(days=3, hours=1)  # the new deadline arms a new reminder
        wait_until(lambda: len(inbox()) == 4)
        assert inbox()[3]["Subject"] == "Erinnerung: Ihr Paket wartet in der Test station"
        assert "2026-11-11 09:00" in text_of(inbox()[3])
        live.clock.advance(days=1)  # and on the last day, the last call
        wait_until(lambda: len(inbox()) == 5)
        assert inbox()[4]["Subject"] == "Letzter Tag: Ihr Paket in der Test station"
        live.clock.advance(days=1)  # past the deadline: expired, and told so
        wait_until(lambda: len(inbox()) == 6)
        assert inbox()[5]["Subject"] == "Ihr Paket wurde nicht rechtzeitig abgeholt"
        # each message once, however often the jobs ran
        assert len(inbox()) == 6
        with live.client("courier") as courier:
            waiting = ok(courier.get(f"{API}/returns"))
        assert [p["id"] for p in waiting] == [parcel_id]
