"""A fake of Stripe's API on loopback, for the tests and the demo (the internet is the edge
of the world): the calls the station makes through the official SDK, in Stripe's own shapes
(form-encoded requests, JSON objects, ``{"error": {...}}`` answers, idempotency keys), the
hosted payment page a customer's phone opens, and signed webhooks.

Faults for tests: ``down`` (every API call answers 500), ``lose_webhooks`` (the customer
pays, the webhook never comes), ``refunds_fail``. ``python -m sim.payment_provider`` runs
one on its own (``make run`` starts one inside the station's process instead).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse


@dataclass
class Faults:
    down: bool = False
    lose_webhooks: bool = False
    refunds_fail: bool = False


@dataclass
class Ledger:
    """What the fake provider holds: every session, refund and webhook it sent."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[tuple[bytes, str]] = field(default_factory=list)  # (payload, signature header)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def charged_cents(self) -> int:
        return sum(
            s["amount_total"] for s in self.sessions.values() if s["payment_status"] == "paid"
        )

    def refunded_cents(self) -> int:
        return sum(r["amount"] for r in self.refunds.values() if r["status"] == "succeeded")


def sign(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """Stripe's ``Stripe-Signature``: ``t=<time>,v1=<HMAC-SHA256 of "<t>.<payload>">``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _nested(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)


class FakeStripe:
    """The fake provider: ``start()`` serves it on 127.0.0.1 (a free port by default)."""

    def __init__(
        self, *, api_key: str, webhook_secret: str, webhook_url: str = "", port: int = 0
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.faults = Faults()
        self.ledger = Ledger()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeStripe:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API ---------------------------------------------------------------------------
    def create_session(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            amount = int(form["line_items[0][price_data][unit_amount]"])
            quantity = int(form.get("line_items[0][quantity]", "1"))
            currency = form["line_items[0][price_data][currency]"]
        except (KeyError, ValueError):
            return 400, _error("parameter_missing", "line_items[0][price_data] is needed")
        if amount < 1 or form.get("mode") != "payment":
            return 400, _error("parameter_invalid_integer", "unit_amount must be at least 1")
        sid = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": sid,
            "object": "checkout.session",
            "amount_total": amount * quantity,
            "currency": currency,
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"{self.url}/pay/{sid}",
            "created": int(time.time()),
            "livemode": False,
        }
        self.ledger.sessions[sid] = session
        return 200, session

    def expire(self, sid: str) -> tuple[int, dict[str, Any]]:
        session = self.ledger.sessions.get(sid)
        if session is None:
            return 404, _error("resource_missing", f"No such checkout.session: '{sid}'")
        if session["status"] != "open":
            return 400, _error(
                None, "Only Checkout Sessions with a status of `open` can be expired."
            )
        session["status"] = "expired"
        return 200, session

    def refund(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = form.get("payment_intent", "")
        session = next(
            (s for s in self.ledger.sessions.values() if s["payment_intent"] == intent), None
        )
        if session is None:
            return 404, _error("resource_missing", f"No such payment_intent: '{intent}'")
        amount = int(form.get("amount") or session["amount_total"])
        done = sum(
            r["amount"] for r in self.ledger.refunds.values() if r["payment_intent"] == intent
        )
        if self.faults.refunds_fail:
            return 402, _error("card_declined", "The refund could not be made.", "card_error")
        if done + amount > session["amount_total"]:
            return 400, _error("charge_already_refunded", "Charge has already been refunded.")
        rid = "re_" + secrets.token_hex(12)
        refund = {
            "id": rid,
            "object": "refund",
            "amount": amount,
            "currency": session["currency"],
            "payment_intent": intent,
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.ledger.refunds[rid] = refund
        return 200, refund

    # -- the customer's phone --------------------------------------------------------------
    def pay(self, sid: str) -> dict[str, Any]:
        """The customer pays on the hosted page: the session completes, the webhook goes."""
        with self._lock:
            session = self.ledger.sessions[sid]
            if session["status"] == "open":
                session.update(
                    status="complete",
                    payment_status="paid",
                    payment_intent="pi_" + secrets.token_hex(12),
                )
                event = _event("checkout.session.completed", session)
            else:
                event = None
        if event is not None and not self.faults.lose_webhooks:
            self.send_webhook(event)
        return session

    def send_webhook(self, event: dict[str, Any], *, signature: str | None = None) -> int | None:
        """POST an event to the webhook URL, signed (or with the ``signature`` given)."""
        payload = json.dumps(event).encode()
        header = signature or sign(self.webhook_secret, payload)
        self.ledger.sent.append((payload, header))
        if not self.webhook_url:
            return None
        if not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL {self.webhook_url!r} is not http(s)")
        request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
            self.webhook_url,
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": dict(obj)},
    }


def _error(code: str | None, message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Pay</title></head>
<body><main><h1>Pay {amount}</h1><p>{name}</p><p id="status">{status}</p>
<form method="post" action="/pay/{sid}"><button type="submit" id="pay"{disabled}>Pay now</button>
</form><p><small>A test provider on this computer: no money moves.</small></p></main></body></html>
"""


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: no thread lingers

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return _nested(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(8))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if fake.faults.down:
                self._json(500, _error(None, "The provider is down (a test fault).", "api_error"))
                return False
            if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                self._json(401, _error(None, "Invalid API Key provided.", "invalid_request_error"))
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802
            path = urlparse(self.path).path
            if path.startswith("/pay/"):
                self._page(path.removeprefix("/pay/"))
                return
            if not self._authorised():
                return
            if path.startswith("/v1/checkout/sessions/"):
                sid = path.rsplit("/", 1)[1]
                session = fake.ledger.sessions.get(sid)
                if session is None:
                    self._json(
                        404, _error("resource_missing", f"No such checkout.session: '{sid}'")
                    )
                else:
                    self._json(200, session)
                return
            self._json(404, _error(None, f"Unrecognized request URL (GET: {path})"))

        def do_POST(self) -> None:  # noqa: N802
            path = urlparse(self.path).path
            if path.startswith("/pay/"):
                self._pay(path.removeprefix("/pay/"))
                return
            form = self._form()
            if not self._authorised():
                return
            key = self.headers.get("Idempotency-Key")
            with fake._lock:
                if key and key in fake.ledger.idempotent:
                    self._json(*fake.ledger.idempotent[key])
                    return
                if path == "/v1/checkout/sessions":
                    status, body = fake.create_session(form)
                elif path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
                    status, body = fake.expire(path.split("/")[-2])
                elif path == "/v1/refunds":
                    status, body = fake.refund(form)
                else:
                    status, body = 404, _error(None, f"Unrecognized request URL (POST: {path})")
                if key and status < 500:
                    fake.ledger.idempotent[key] = (status, body)
            self._json(status, body)

        def _page(self, sid: str) -> None:
            session = fake.ledger.sessions.get(sid)
            if session is None:
                self._json(404, _error("resource_missing", "No such page"))
                return
            amount = f"{session['currency'].upper()} {session['amount_total'] / 100:.2f}"
            status = {"open": "", "complete": "Paid.", "expired": "This payment has expired."}
            text = PAGE.format(
                amount=html.escape(amount),
                name=html.escape(session["metadata"].get("description", "")),
                status=status[session["status"]],
                sid=html.escape(sid),
                disabled="" if session["status"] == "open" else " disabled",
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def _pay(self, sid: str) -> None:
            self._form()
            if sid not in fake.ledger.sessions:
                self._json(404, _error("resource_missing", "No such page"))
                return
            session = fake.pay(sid)
            self.send_response(303)
            self.send_header("Location", session.get("success_url") or f"/pay/{sid}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_demo")
    parser.add_argument("--webhook-secret", default="whsec_demo")
    parser.add_argument("--webhook-url", default="http://127.0.0.1:8000/api/v1/payments/webhook")
    args = parser.parse_args()
    fake = FakeStripe(
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        port=args.port,
    )
    print(f"fake Stripe on {fake.url}", flush=True)
    fake.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
