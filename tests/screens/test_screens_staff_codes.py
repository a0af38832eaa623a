"""A new pickup code from the maintenance screen (issue 26), in a real browser with a real
SMTP server: "send the code again" and "make a new code", on a parcel's row and on its
compartment's panel. The recipient gets the sent one by mail (staff never see it), the
made one is shown once to hand over; the old code stops opening the door either way, the
new one opens it, and the audit log has both."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Locator, expect

from tests.api.http_helpers import API, kiosk_collect, ok, parcel, problem
from tests.api.live import LiveStation, live_station, wait_until
from tests.mail_support import SmtpServer, smtp_server, text_of
from tests.screens.conftest import Screens, no_script_errors

SENT = "A new code was sent to the recipient (mail); the old one no longer opens the door."


def stored_for(live: LiveStation, tracking: str, email: str) -> tuple[int, int, str]:
    """A parcel deposited through the API and stored; (parcel id, compartment, PIN)."""
    with live.client("courier") as courier:
        body = ok(
            courier.post(f"{API}/deposits", json={"parcel": parcel(tracking, email=email)}), 201
        )
        pid, compartment = body["parcel"]["id"], body["door"]["compartment_id"]
        live.sim.put(compartment)
        live.sim.close(compartment)
        pin: str = ok(courier.post(f"{API}/parcels/{pid}/confirm"))["code"]["pin"]
    return pid, compartment, pin


def mailed_pins(server: SmtpServer, address: str, count: int) -> list[str]:
    """The PINs mailed to ``address``, once ``count`` mails are there."""
    wait_until(lambda: len(server.mailbox.to(address)) >= count)
    mails = server.mailbox.to(address)
    assert len(mails) == count
    return [
        re.findall(r"Your PIN: (\d{3} \d{3} \d{4})", text_of(m))[0].replace(" ", "") for m in mails
    ]


def shown_pin(where: Locator) -> str:
    shown: str = where.locator("[data-new-pin]").inner_text()
    return shown.replace(" ", "")


def only_the_newest_opens(live: LiveStation, old: list[str], new: str, compartment: int) -> None:
    for pin in old:
        problem(kiosk_collect(live, pin), 404, "code_invalid")
    opened = ok(kiosk_collect(live, new))
    assert [d["compartment_id"] for d in opened["doors"]] == [compartment]


def test_staff_send_the_code_again_and_make_a_new_one(tmp_path: Path, browser: Browser) -> None:
    with (
        smtp_server() as server,
        live_station(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            notify_every_s=0.05,
            attempts_free=10,
        ) as live,
    ):
        row_pid, row_cid, row_pin = stored_for(live, "CODE-ROW", "ada@example.org")
        panel_pid, panel_cid, panel_pin = stored_for(live, "CODE-PANEL", "bo@example.org")
        assert mailed_pins(server, "ada@example.org", 1) == [row_pin]  # the deposit's mail
        screens = Screens(browser, live)
        try:
            # on the parcel's row: sent again (by mail; staff do not see it), then made
            staff = screens.signed_in("/staff", "staff")
            staff.goto("/staff/parcels")
            staff.fill("#q", "CODE-ROW")
            row = staff.locator(f"#parcel-{row_pid}")
            row.locator(f"[data-send-code='{row_pid}']").click()
            expect(row.locator("[role=status]")).to_have_text(SENT)
            expect(row.locator("[data-new-pin]")).to_have_count(0)
            sent = mailed_pins(server, "ada@example.org", 2)[1]
            assert sent != row_pin
            staff.reload()
            staff.fill("#q", "CODE-ROW")
            row.locator(f"[data-new-code='{row_pid}']").click()
            expect(row.locator("[role=status]")).to_contain_text("New code (shown once")
            made = shown_pin(row)
            assert made not in (row_pin, sent)
            only_the_newest_opens(live, [row_pin, sent], made, row_cid)

            # on the compartment's panel: the same two
            staff.goto(f"/staff?c={panel_cid}")
            detail = staff.locator("#detail")
            expect(detail.locator("h2")).to_contain_text(f"Compartment {panel_cid}")
            detail.locator(f"[data-send-code='{panel_pid}']").click()
            expect(detail).to_contain_text(SENT)
            expect(detail.locator("[data-new-pin]")).to_have_count(0)
            sent = mailed_pins(server, "bo@example.org", 2)[1]
            detail.locator(f"[data-new-code='{panel_pid}']").click()
            expect(detail.locator("[data-new-pin]")).to_be_visible()
            made = shown_pin(detail)
            assert len({panel_pin, sent, made}) == 3
            only_the_newest_opens(live, [panel_pin, sent], made, panel_cid)

            # both in the audit log, by the staff member who asked
            for pid in (row_pid, panel_pid):
                with live.client("staff") as api:
                    audit = ok(api.get(f"{API}/audit", params={"parcel": pid, "action": "code."}))
                assert [(e["action"], e["actor"]) for e in audit] == [
                    ("code.reissued", "staff:staff"),
                    ("code.resent", "staff:staff"),
                ]
                staff.goto(f"/staff/audit?parcel={pid}")
                # as sentences (the action's code is for the API)
                expect(staff.locator("table.audit")).to_contain_text(
                    f"Pickup code of parcel {pid} sent to its recipient again"
                )
                expect(staff.locator("table.audit")).to_contain_text(
                    f"New pickup code for parcel {pid}"
                )
            no_script_errors(staff)
        finally:
            screens.close()
