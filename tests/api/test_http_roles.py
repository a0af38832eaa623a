"""Every endpoint of the served app, enumerated from the app itself: the ones that need a
role refuse anonymous callers (401 not_authenticated) and every other role (403
forbidden). An endpoint added without a row in ``NEEDS`` or ``PUBLIC`` fails the test, so
a new endpoint cannot slip in without its role check being decided here."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.screens import expanded
from tests.api.http_helpers import API, ok, problem
from tests.api.live import PASSWORD, LiveStation, live_station

COURIER = frozenset({"courier", "rival"})
STAFF = frozenset({"staff", "admin"})  # admins may do everything staff may do
ADMIN = frozenset({"admin"})
ANYONE_SIGNED_IN = COURIER | STAFF
ROLES = ("admin", "staff", "courier", "rival")

# (method, path) -> the roles (keys of LiveStation.tokens) let through
NEEDS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{API}/parcels"): COURIER,
    ("GET", f"{API}/parcels"): STAFF,
    ("POST", f"{API}/deposits"): COURIER,
    ("POST", f"{API}/parcels/{{parcel_id}}/reserve"): COURIER,
    ("POST", f"{API}/parcels/{{parcel_id}}/deposit"): COURIER,
    ("POST", f"{API}/parcels/{{parcel_id}}/door-stuck"): COURIER,
    ("POST", f"{API}/parcels/{{parcel_id}}/confirm"): COURIER,
    ("POST", f"{API}/parcels/{{parcel_id}}/take-back"): COURIER,
    ("GET", f"{API}/parcels/{{parcel_id}}"): COURIER | STAFF,
    ("GET", f"{API}/returns"): COURIER | STAFF,
    ("GET", f"{API}/compartments"): STAFF,
    ("GET", f"{API}/compartments/{{compartment_id}}"): STAFF,
    ("POST", f"{API}/compartments/{{compartment_id}}/open"): STAFF,
    ("POST", f"{API}/compartments/open-all"): ADMIN,
    ("POST", f"{API}/compartments/{{compartment_id}}/out-of-service"): STAFF,
    ("POST", f"{API}/compartments/{{compartment_id}}/clear-fault"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/extend"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/code"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/code/send"): STAFF,
    ("GET", f"{API}/audit"): STAFF,
    # a person's data (issue 17)
    ("GET", f"{API}/recipients/{{recipient_id}}/export"): STAFF,
    ("DELETE", f"{API}/recipients/{{recipient_id}}"): STAFF,
    ("POST", f"{API}/people/export"): STAFF,
    ("POST", f"{API}/people/erase"): STAFF,
    ("GET", f"{API}/alerts"): STAFF,
    ("GET", f"{API}/health/buses"): STAFF,
    ("GET", f"{API}/auth/me"): ANYONE_SIGNED_IN,
    ("DELETE", f"{API}/auth/session"): ANYONE_SIGNED_IN,
    ("DELETE", f"{API}/auth/token"): ANYONE_SIGNED_IN,
    ("GET", f"{API}/accounts"): ADMIN,
    ("POST", f"{API}/accounts"): ADMIN,
    ("POST", f"{API}/accounts/{{account_id}}/deactivate"): ADMIN,
    ("GET", f"{API}/carriers"): ADMIN,
    ("PUT", f"{API}/carriers/{{name}}"): ADMIN,
    ("GET", f"{API}/kiosk-devices"): ADMIN,
    ("POST", f"{API}/kiosk-devices"): ADMIN,
    ("DELETE", f"{API}/kiosk-devices/{{name}}"): ADMIN,
    ("POST", f"{API}/return-codes"): COURIER | STAFF,
    ("GET", f"{API}/notifications"): STAFF,
    # the directory (issue 17): staff keep it, couriers search it
    ("GET", f"{API}/recipients"): STAFF,
    ("POST", f"{API}/recipients"): STAFF,
    ("GET", f"{API}/recipients/{{recipient_id}}"): STAFF,
    ("PUT", f"{API}/recipients/{{recipient_id}}"): STAFF,
    ("POST", f"{API}/recipients/import"): STAFF,
    ("GET", f"{API}/recipients/export"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/assign"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/send-back"): STAFF,
    ("GET", f"{API}/directory/search"): COURIER | STAFF,
    # the simulator's hands (mounted only on a simulated station): staff, or the
    # simulator's own token (tests/api/test_http_sim_access.py)
    ("GET", f"{API}/sim/doors"): STAFF,
    ("POST", f"{API}/sim/doors/{{compartment_id}}/{{hand}}"): STAFF,
    ("POST", f"{API}/sim/doors/{{compartment_id}}/fault"): STAFF,
    ("DELETE", f"{API}/sim/doors/{{compartment_id}}/fault"): STAFF,
    ("GET", f"{API}/sim/sensors"): STAFF,
    ("PUT", f"{API}/sim/sensors/{{sensor_id}}"): STAFF,
    ("POST", f"{API}/sim/sensors/{{sensor_id}}/silence"): STAFF,
    ("DELETE", f"{API}/sim/sensors/{{sensor_id}}/silence"): STAFF,
    # pay at pick-up (issue 28): staff keep the money, admins close the terminal's day
    ("GET", f"{API}/parcels/{{parcel_id}}/payments"): STAFF,
    ("PUT", f"{API}/parcels/{{parcel_id}}/amount-due"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/payments/cash"): STAFF,
    ("POST", f"{API}/parcels/{{parcel_id}}/payments/waive"): STAFF,
    ("POST", f"{API}/payments/{{payment_id}}/refund"): STAFF,
    ("GET", f"{API}/payments/unpaid"): STAFF,
    ("GET", f"{API}/payments/totals"): STAFF,
    ("POST", f"{API}/terminal/end-of-day"): ADMIN,
}

# Deliberately open to anyone: the customer's code, QR images, signing in, health and
# metrics.
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", f"{API}/collect"),
        ("POST", f"{API}/qr.png"),
        ("POST", f"{API}/qr.svg"),
        ("POST", f"{API}/auth/token"),
        ("POST", f"{API}/auth/session"),
        ("POST", f"{API}/payments/webhook"),  # the provider's: its signature is the key
        ("GET", "/healthz"),
        ("GET", "/metrics"),
    }
)
# The API's documentation (no /api/v1 prefix, not in the OpenAPI document itself).
DOCS_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")
# the screens' stylesheet, script and vendored htmx, and the base they share with the hub
STATIC = ("/static", "/static/common")

# The screens (HTML, not in the OpenAPI document): who may use each. A screen that needs
# a role answers anyone else with its sign-in page (a redirect to it).
SCREEN_PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/"),
        ("GET", "/kiosk"),
        ("GET", "/kiosk/idle"),
        ("POST", "/kiosk/collect"),
        ("POST", "/kiosk/extend"),
        ("POST", "/kiosk/hold"),
        ("POST", "/kiosk/drop-off"),
        # pairing a screen as the kiosk (the device token an admin made is the key)
        ("GET", "/kiosk/pair"),
        ("POST", "/kiosk/pair"),
        ("GET", "/courier"),  # shows the sign-in form to anyone else
        ("POST", "/courier/sign-in"),
        ("GET", "/staff"),
        ("POST", "/staff/sign-in"),
        # a first sign-in's second step (the ticket from the one-time password is the key)
        ("POST", "/courier/first-password"),
        ("POST", "/staff/first-password"),
        ("GET", "/favicon.ico"),
        # the recipient's link to more time (the link itself is the key)
        ("GET", "/extend/{token}"),
        ("POST", "/extend/{token}"),
        ("POST", "/extend/{token}/hold"),
        # the simulator's page tells anyone not signed in as staff the rule
        ("GET", "/sim"),
        # pay at pick-up: the pay link (the link itself is the key) and the kiosk's card
        ("GET", "/pay/{token}"),
        ("GET", "/pay/{token}/go"),
        ("GET", "/pay/{token}/done"),
        ("POST", "/kiosk/pay-card"),
        ("GET", "/kiosk/pay-card/{job_id}"),  # only the kiosk that started it sees it
    }
)
SCREEN_NEEDS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/courier/sign-out"): COURIER,
    ("GET", "/courier/new"): COURIER,
    ("POST", "/courier/deposit"): COURIER,
    ("POST", "/courier/parcels/{parcel_id}/deposit"): COURIER,
    ("POST", "/courier/parcels/{parcel_id}/door-stuck"): COURIER,
    ("GET", "/courier/parcels/{parcel_id}/status"): COURIER,
    ("POST", "/courier/parcels/{parcel_id}/code"): COURIER,
    ("POST", "/courier/parcels/{parcel_id}/confirm"): COURIER,
    ("GET", "/courier/returns"): COURIER,
    ("POST", "/courier/parcels/{parcel_id}/take-back"): COURIER,
    ("POST", "/staff/sign-out"): STAFF,
    ("GET", "/staff/orders"): STAFF,
    ("POST", "/staff/orders"): STAFF,
    ("GET", "/staff/orders/{parcel_id}/status"): STAFF,
    ("POST", "/staff/orders/{parcel_id}/code"): STAFF,
    ("GET", "/staff/front"): STAFF,
    ("GET", "/staff/compartments/{compartment_id}"): STAFF,
    ("POST", "/staff/compartments/{compartment_id}/open"): STAFF,
    ("POST", "/staff/open-all"): ADMIN,
    ("POST", "/staff/compartments/{compartment_id}/out-of-service"): STAFF,
    ("POST", "/staff/compartments/{compartment_id}/clear-fault"): STAFF,
    ("GET", "/staff/parcels"): STAFF,
    ("GET", "/staff/expired"): STAFF,
    ("POST", "/staff/parcels/{parcel_id}/extend"): STAFF,
    ("GET", "/staff/audit"): STAFF,
    ("GET", "/staff/health"): STAFF,
    ("GET", "/staff/person"): STAFF,
    ("POST", "/staff/person/find"): STAFF,
    ("POST", "/staff/person/erase"): STAFF,
    # the directory (issue 17): staff keep it, couriers search it on their form
    ("GET", "/staff/directory"): STAFF,
    ("GET", "/staff/directory/people"): STAFF,
    ("GET", "/staff/directory/new"): STAFF,
    ("GET", "/staff/directory/{recipient_id}/edit"): STAFF,
    ("POST", "/staff/directory"): STAFF,
    ("POST", "/staff/directory/{recipient_id}"): STAFF,
    ("POST", "/staff/directory/import"): STAFF,
    ("GET", "/staff/directory/export"): STAFF,
    ("GET", "/staff/directory/choices"): STAFF,
    ("POST", "/staff/directory/parcels/{parcel_id}/assign"): STAFF,
    ("POST", "/staff/directory/parcels/{parcel_id}/send-back"): STAFF,
    ("GET", "/courier/recipients"): COURIER,
    # the simulator's hands, mounted only on a simulated station, like /api/v1/sim
    ("POST", "/sim/sign-out"): STAFF,  # the staff session the simulator shares
    ("GET", "/sim/front"): STAFF,
    ("GET", "/sim/compartments/{compartment_id}"): STAFF,
    ("POST", "/sim/compartments/{compartment_id}/fault"): STAFF,
    ("POST", "/sim/compartments/{compartment_id}/repair"): STAFF,
    ("POST", "/sim/compartments/{compartment_id}/{hand}"): STAFF,
    ("GET", "/staff/payments"): STAFF,
    ("POST", "/staff/payments/{parcel_id}/cash"): STAFF,
    ("POST", "/staff/payments/{parcel_id}/waive"): STAFF,
    ("POST", "/staff/payments/{parcel_id}/amount"): STAFF,
    ("POST", "/staff/payments/refund/{payment_id}"): STAFF,
    ("POST", "/staff/payments/end-of-day"): ADMIN,
    # cooled compartments (issue 27): the cold groups' panel, the simulated thermometers
    ("GET", "/staff/cold"): STAFF,
    ("GET", "/sim/sensors"): STAFF,
    ("POST", "/sim/sensors/{sensor_id}"): STAFF,
    ("POST", "/sim/sensors/{sensor_id}/warm"): STAFF,
    ("POST", "/sim/sensors/{sensor_id}/cool"): STAFF,
    ("POST", "/sim/sensors/{sensor_id}/silence"): STAFF,
    ("POST", "/sim/sensors/{sensor_id}/answer"): STAFF,
    # announcements on the courier's screen, new codes from staff's (issue 26)
    ("GET", "/courier/announced"): COURIER,
    ("GET", "/courier/announced/match"): COURIER,
    ("POST", "/staff/parcels/{parcel_id}/code"): STAFF,
    ("POST", "/staff/parcels/{parcel_id}/code/send"): STAFF,
    ("POST", "/staff/compartments/{compartment_id}/code"): STAFF,
    ("POST", "/staff/compartments/{compartment_id}/code/send"): STAFF,
}
SCREEN_HOMES = {"/courier": "/courier", "/staff": "/staff", "/sim": "/sim"}


def _endpoints(live: LiveStation) -> tuple[set[tuple[str, str]], set[str]]:
    """Every (method, path) of the app as the station serves it (API and screens), and
    the docs' routes."""
    app = create_app(live.ctx, background=False)  # built exactly as the harness builds it
    api: set[tuple[str, str]] = set()
    docs: set[str] = set()
    for context in iter_route_contexts(expanded(app.routes)):  # the screens' built too
        path = context.path
        assert path is not None, context
        if path.startswith(DOCS_PREFIXES):
            docs.add(path)
            continue
        if path in STATIC:
            continue
        route = context.original_route
        assert isinstance(route, APIRoute), f"a route of an unexpected kind: {route!r}"
        api.update((method, path) for method in route.methods)
    return api, docs


def _is_api(endpoint: tuple[str, str]) -> bool:
    return endpoint[1].startswith(API) or endpoint[1] in ("/healthz", "/metrics")


def _call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    url = path.replace("{parcel_id}", "1").replace("{compartment_id}", "1")
    url = url.replace("{account_id}", "1").replace("{hand}", "close").replace("{name}", "X")
    url = url.replace("{recipient_id}", "1").replace("{payment_id}", "1")
    url = url.replace("{sensor_id}", "fridge")
    if method in ("POST", "PUT", "PATCH"):
        return client.request(method, url, json={})
    return client.request(method, url)


REVOKE_TOKEN = ("DELETE", f"{API}/auth/token")


def _revoke_a_fresh_token(live: LiveStation, name: str) -> httpx.Response:
    with live.client(None) as anyone:
        signed_in = anyone.post(f"{API}/auth/token", json={"name": name, "password": PASSWORD})
        token = ok(signed_in, 201)["token"]
        return anyone.delete(f"{API}/auth/token", headers={"Authorization": f"Bearer {token}"})


def test_every_endpoint_is_either_public_or_needs_a_role(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        everything, docs = _endpoints(live)
        screens = {e for e in everything if not _is_api(e)}
        api = everything - screens
        assert screens == set(SCREEN_NEEDS) | SCREEN_PUBLIC, sorted(
            screens ^ (set(SCREEN_NEEDS) | SCREEN_PUBLIC)
        )
        unknown = api - set(NEEDS) - PUBLIC
        assert not unknown, f"endpoints without a decided role check: {sorted(unknown)}"
        gone = (set(NEEDS) | PUBLIC) - api
        assert not gone, f"endpoints this test expects but the app lacks: {sorted(gone)}"
        assert {"/docs", "/openapi.json"} <= docs

        # the OpenAPI document shows the same endpoints, and their security
        document = ok(anyone.get("/openapi.json"))
        documented = {
            (method.upper(), path)
            for path, operations in document["paths"].items()
            for method in operations
        }
        assert documented == api
        for (method, path), _roles in NEEDS.items():
            assert document["paths"][path][method.lower()].get("security"), (method, path)
        for method, path in PUBLIC:
            assert not document["paths"][path][method.lower()].get("security"), (method, path)

        docs = anyone.get("/docs")
        assert docs.status_code == 200
        assert "text/html" in docs.headers["content-type"]

        # the public ones answer without credentials
        for method, path in sorted(PUBLIC):
            answer = _call(anyone, method, path)
            assert answer.status_code not in (401, 403), (method, path, answer.text)
            assert answer.status_code < 500, (method, path, answer.text)
        assert anyone.get("/healthz").status_code == 200
        assert anyone.get("/metrics").status_code == 200
        problem(anyone.get(f"{API}/sim/doors"), 401, "not_authenticated")


def test_anonymous_gets_401_and_every_wrong_role_403_on_every_endpoint(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live:
        everything, _ = _endpoints(live)
        api = {e for e in everything if _is_api(e)}
        assert len(api - PUBLIC) == len(NEEDS)
        with live.client(None) as anyone:
            for method, path in sorted(api - PUBLIC):
                answer = _call(anyone, method, path)
                body = problem(answer, 401, "not_authenticated")
                assert answer.headers["WWW-Authenticate"] == "Bearer", (method, path)
                assert body["title"] == "Not signed in"

        clients = {role: live.client(role) for role in ROLES}
        try:
            for method, path in sorted(api - PUBLIC):
                allowed = NEEDS[(method, path)]
                for role, client in clients.items():
                    if (method, path) == REVOKE_TOKEN and role in allowed:
                        answer = _revoke_a_fresh_token(live, role)  # keeps the client's own
                    else:
                        answer = _call(client, method, path)
                    if role in allowed:
                        assert answer.status_code not in (401, 403), (method, path, role, answer)
                    else:
                        body = problem(answer, 403, "forbidden")
                        assert body["title"] == "Not allowed", (method, path, role)
        finally:
            for client in clients.values():
                client.close()

        # a staff browser session is staff; an admin may do what staff may
        with live.client(None) as browser:
            signed_in = browser.post(
                f"{API}/auth/session", json={"name": "staff", "password": PASSWORD}
            )
            csrf = ok(signed_in)["csrf_token"]
            assert len(ok(browser.get(f"{API}/compartments"))) == 12
            problem(browser.get(f"{API}/accounts"), 403, "forbidden")
            problem(
                browser.post(f"{API}/parcels", json={}, headers={"X-CSRF-Token": csrf}),
                403,
                "forbidden",
            )
        with live.client("admin") as admin:
            opened = ok(admin.post(f"{API}/compartments/12/open", json={"reason": "admin"}))
        assert opened["opened"] is True
        assert live.sim.pulses(12) == 1
