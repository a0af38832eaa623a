"""The directory through real HTTP: staff keep people (checked fields, CSV in and out),
couriers search it and deposit for a person (whose notify_by picks the channels), and a
parcel for nobody found is stored, alerted, then assigned (the person is told only then,
over real SMTP on loopback) or sent back to its carrier's courier."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.api.http_helpers import API, ok, parcel, problem
from tests.api.live import LiveStation, live_station, wait_until
from tests.mail_support import smtp_server, text_of
from tests.webhook_support import Receiver, webhook_receiver

ADA = {
    "name": "Ada Lovelace",
    "unit": "3.12",
    "email": "ada@example.org",
    "phone": "+44 20 7946 0001",
    "language": "en",
    "notify_by": "mail",
    "staff_note": "leave with the concierge",
}
JUERGEN = {
    "name": "Jürgen Groß",
    "unit": "4.01",
    "email": "juergen@example.org",
    "phone": "+49 170 1234567",
    "language": "de",
    "needs_accessible": True,
    "notify_by": "sms",
}
SHOP_SECRET = "shop-secret-for-the-directory"


def _stored(live: LiveStation, courier: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Deposit, put in, close, confirm: the confirmation's body."""
    answer = ok(courier.post(f"{API}/deposits", json={"parcel": body}), 201)
    pid, cid = answer["parcel"]["id"], answer["door"]["compartment_id"]
    live.sim.put(cid)
    live.sim.close(cid)
    confirmed = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
    assert confirmed["parcel"]["state"] == "stored", confirmed
    return confirmed


def test_staff_keep_the_directory_and_couriers_see_only_names(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("staff") as staff,
        live.client("courier") as courier,
    ):
        ada = ok(staff.post(f"{API}/recipients", json=ADA), 201)
        assert ada["name"] == "Ada Lovelace"
        assert ok(staff.get(f"{API}/recipients/{ada['id']}")) == ada
        # the fields are checked: the form (schema) first, then what belongs together
        bad = problem(
            staff.post(f"{API}/recipients", json={**ADA, "email": "ada@"}), 422, "invalid_request"
        )
        assert bad["errors"][0]["where"] == "body.email"
        long = problem(
            staff.post(f"{API}/recipients", json={**ADA, "name": "x" * 201}),
            422,
            "invalid_request",
        )
        assert long["errors"][0]["where"] == "body.name"
        no_phone = problem(
            staff.post(f"{API}/recipients", json={"name": "Bo", "notify_by": "sms"}),
            422,
            "recipient_invalid",
        )
        assert no_phone["errors"] == [{"where": "phone", "problem": "needed to tell them by sms"}]
        problem(staff.get(f"{API}/recipients/999"), 404, "recipient_not_found")
        changed = ok(staff.put(f"{API}/recipients/{ada['id']}", json={**ADA, "unit": "3.14"}))
        assert changed["unit"] == "3.14"

        # CSV in: a file with a bad row imports nothing and reports the row
        header = "name,unit,email,phone,language,needs_accessible,notify_by\n"
        broken = header + "Emmy Noether,5.1,emmy@example.org,,de,no,mail\nBad,5.2,,,,,mail\n"
        csv_type = {"content-type": "text/csv"}
        refused = problem(
            staff.post(f"{API}/recipients/import", content=broken, headers=csv_type),
            422,
            "csv_rejected",
        )
        assert refused["rows"] == [
            {"line": 3, "errors": [{"where": "email", "problem": "needed to tell them by mail"}]}
        ]
        assert len(ok(staff.get(f"{API}/recipients"))) == 1
        good = header + "Emmy Noether,5.1,emmy@example.org,,de,no,mail\n"
        assert ok(staff.post(f"{API}/recipients/import", content=good, headers=csv_type)) == {
            "created": 1,
            "updated": 0,
        }
        not_text = staff.post(f"{API}/recipients/import", content=b"\xff\xfe", headers=csv_type)
        problem(not_text, 422, "csv_rejected")
        # ... and out, with the columns the import takes back
        exported = staff.get(f"{API}/recipients/export")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        lines = exported.text.splitlines()
        assert lines[0] == "id,name,unit,email,phone,language,needs_accessible,notify_by,staff_note"
        assert lines[1].startswith(f"{ada['id']},Ada Lovelace,3.14,ada@example.org,")
        # a large file passes the body limit for this path only
        many = header + "".join(
            f"P{i} Lang,{i},p{i}@example.org,,en,no,mail\n" for i in range(2000)
        )
        assert len(many) > 64 * 1024
        big = ok(staff.post(f"{API}/recipients/import", content=many, headers=csv_type))
        assert big["created"] == 2000
        assert [r["name"] for r in ok(staff.get(f"{API}/recipients", params={"q": "emy nother"}))][
            :1
        ] == ["Emmy Noether"]

        # the courier's search: only a name, a flat number and the id
        found = ok(courier.get(f"{API}/directory/search", params={"q": "lovlace ada"}))
        assert found[0] == {"id": ada["id"], "name": "Ada Lovelace", "unit": "3.14"}
        assert all(set(m) == {"id", "name", "unit"} for m in found)
        assert ok(courier.get(f"{API}/directory/search", params={"q": "zzqx"})) == []
        problem(courier.get(f"{API}/recipients"), 403, "forbidden")
        problem(courier.get(f"{API}/recipients/export"), 403, "forbidden")
        problem(courier.post(f"{API}/parcels/1/assign", json={"recipient_id": 1}), 403, "forbidden")
        with live.client(None) as anyone:
            problem(
                anyone.get(f"{API}/directory/search", params={"q": "ada"}), 401, "not_authenticated"
            )
        # a deposit for a person: their name, language and contact, but not shown to couriers
        body = parcel("TRK-DIR-1", name="", recipient_id=ada["id"])
        held = ok(courier.post(f"{API}/deposits", json={"parcel": body}), 201)["parcel"]
        assert (held["recipient_name"], held["recipient_id"]) == ("Ada Lovelace", ada["id"])
        assert held["recipient_email"] is None
        assert held["notify_by"] == "mail"
        seen_by_staff = ok(staff.get(f"{API}/parcels", params={"q": "TRK-DIR-1"}))[0]
        assert seen_by_staff["recipient_email"] == "ada@example.org"
        problem(
            courier.post(f"{API}/deposits", json={"parcel": parcel("T", recipient_id=99999)}),
            404,
            "recipient_not_found",
        )
        problem(
            courier.post(
                f"{API}/deposits",
                json={"parcel": parcel("T", recipient_id=ada["id"], recipient_unknown=True)},
            ),
            422,
            "invalid_request",
        )


def _recipient_hooks(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.body for r in receiver.accepted if not r.body["event"].startswith("alert.")]


def test_a_parcel_for_nobody_found_is_alerted_then_assigned_or_sent_back(tmp_path: Path) -> None:
    with (
        smtp_server() as server,
        webhook_receiver() as receiver,
    ):
        receiver.secrets["/shop"] = SHOP_SECRET
        with (
            live_station(
                tmp_path,
                smtp_host="127.0.0.1",
                smtp_port=server.port,
                staff_email="staff@shop.example",
                shop_webhook_url=receiver.url + "/shop",
                shop_webhook_secret=SHOP_SECRET,
                webhook_allow_hosts="127.0.0.1",
                notify_every_s=0.05,
            ) as live,
            live.client("staff") as staff,
            live.client("courier") as courier,
        ):
            ada = ok(staff.post(f"{API}/recipients", json=ADA), 201)
            juergen = ok(staff.post(f"{API}/recipients", json=JUERGEN), 201)

            # nobody found: stored all the same, no code, staff alerted
            unknown = _stored(
                live, courier, parcel("TRK-WHO", name="A. Lovlace", recipient_unknown=True)
            )
            assert unknown["code"] is None
            assert "no code yet" in unknown["detail"]
            pid, cid = unknown["parcel"]["id"], unknown["parcel"]["compartment_id"]
            assert unknown["parcel"]["recipient_unknown"] is True
            alerts = ok(staff.get(f"{API}/alerts"))
            assert [(a["kind"], a["compartment_id"]) for a in alerts] == [
                ("recipient_unknown", cid)
            ]
            # staff hear of it (mail and the shop's webhook), nobody else hears anything
            wait_until(lambda: len(server.mailbox.to("staff@shop.example")) == 1)
            wait_until(
                lambda: any(r.body["event"] == "alert.recipient_unknown" for r in receiver.accepted)
            )
            assert [m["To"] for m in server.mailbox.messages] == ["staff@shop.example"]
            assert _recipient_hooks(receiver) == []
            listed = ok(staff.get(f"{API}/parcels", params={"q": "TRK-WHO"}))[0]
            assert listed["flagged"].startswith("recipient unknown")

            # assigned: the person is told now, by mail only (their notify_by)
            assigned = ok(
                staff.post(f"{API}/parcels/{pid}/assign", json={"recipient_id": ada["id"]})
            )
            assert assigned["recipient_name"] == "Ada Lovelace"
            assert assigned["recipient_unknown"] is False
            assert assigned["flagged"] == ""
            assert ok(staff.get(f"{API}/alerts")) == []
            wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 1)
            mail = server.mailbox.to("ada@example.org")[0]
            assert mail["Subject"].startswith("Your parcel is ready")
            pin = re.findall(r"Your PIN: (\d[\d ]*\d)", text_of(mail))[0]
            problem(
                staff.post(f"{API}/parcels/{pid}/assign", json={"recipient_id": ada["id"]}),
                409,
                "invalid_transition",
            )
            with live.client(None) as customer:
                collected = ok(customer.post(f"{API}/collect", json={"code": pin}))
            assert collected["all_opened"] is True

            # a person chosen at the deposit: notify_by "sms" is the shop's webhook only
            chosen = _stored(live, courier, parcel("TRK-SMS", name="", recipient_id=juergen["id"]))
            assert chosen["code"] is not None
            assert chosen["parcel"]["recipient_phone"] is None  # not for the courier's eyes
            wait_until(lambda: any(h["event"] == "code.issued" for h in _recipient_hooks(receiver)))
            sms = next(h for h in _recipient_hooks(receiver) if h["event"] == "code.issued")
            assert sms["to"]["phone"] == "+49 170 1234567"
            assert sms["to"]["language"] == "de"
            assert sms["code"]["pin"] == chosen["code"]["pin"]
            # the mail message of the first parcel (collected) went out, none to Jürgen;
            # the webhook got no message of Ada's parcel (her notify_by is mail)
            wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 2)  # collected
            assert server.mailbox.to("juergen@example.org") == []
            assert all(h["parcel"]["id"] != pid for h in _recipient_hooks(receiver))

            # sent back instead: it waits for the courier like an expired parcel, unheard of
            other = _stored(
                live, courier, parcel("TRK-BACK", name="Nobody", recipient_unknown=True)
            )
            back_id = other["parcel"]["id"]
            sent = ok(staff.post(f"{API}/parcels/{back_id}/send-back"))
            assert sent["state"] == "expired"
            assert [p["id"] for p in ok(courier.get(f"{API}/returns"))] == [back_id]
            taken = ok(courier.post(f"{API}/parcels/{back_id}/take-back"))
            assert taken["parcel"]["state"] == "returned"
            assert ok(staff.get(f"{API}/alerts")) == []
            problem(staff.post(f"{API}/parcels/{back_id}/send-back"), 409, "invalid_transition")
            wait_until(lambda: len(server.mailbox.to("staff@shop.example")) == 2)
            hooks_before = len(_recipient_hooks(receiver))
            mails_before = len(server.mailbox.messages)
            # nothing more for anybody but staff: the next alert's mail comes after the
            # take-back's events in the outbox, so they have all gone through by then
            unknown_again = _stored(live, courier, parcel("TRK-LAST", recipient_unknown=True))
            assert unknown_again["code"] is None
            wait_until(lambda: len(server.mailbox.to("staff@shop.example")) == 3)
            assert len(server.mailbox.messages) == mails_before + 1
            assert len(_recipient_hooks(receiver)) == hooks_before
            audit = ok(staff.get(f"{API}/audit", params={"action": "parcel.", "limit": 100}))
            actions = {e["action"] for e in audit}
            assert {"parcel.assigned", "parcel.sent_back"} <= actions
