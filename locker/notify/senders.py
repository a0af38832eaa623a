"""Sending one message: mail over SMTP (the code's QR image inline), or a signed JSON body
to a webhook. A failure raises :class:`SendFailed`; the caller retries later."""

from __future__ import annotations

import base64
import http.client
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import unquote

from locker.notify import qr_images
from locker.notify.config import SmtpConfig
from locker.notify.messages import Letter, signature
from locker.notify.webhook_guard import WebhookGuard, WebhookUrlForbidden, redact, scrub

WEBHOOK_TIMEOUT_S = 10.0


class SendFailed(Exception):
    """The message did not go out (the server is down, refused it, or answered an error)."""


class Mailer(Protocol):
    def send(self, letter: Letter, *, to: str, message_id: str) -> None: ...


class Poster(Protocol):
    def post(self, url: str, body: dict[str, Any], *, secret: str, delivery_id: int) -> None: ...


def email_of(letter: Letter, *, sender: str, to: str, message_id: str) -> EmailMessage:
    """The mail: plain text, an HTML part, and the QR image inline (``cid:``)."""
    mail = EmailMessage()
    mail["Subject"] = letter.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    mail["Content-Language"] = letter.language
    mail.set_content(letter.text)
    if letter.qr_token is not None:
        cid = make_msgid(domain="qr.open-pickup-station")
        escaped = (
            letter.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        ).replace("\n", "<br>\n")
        mail.add_alternative(
            f'<html><body><p>{escaped}</p><p><img src="cid:{cid[1:-1]}" alt="QR" '
            'width="240" height="240"></p></body></html>',
            subtype="html",
        )
        html = next(part for part in mail.iter_parts() if part.get_content_type() == "text/html")
        assert isinstance(html, EmailMessage)
        html.add_related(qr_images.png(letter.qr_token), "image", "png", cid=cid)
    return mail


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def tls_context(self) -> ssl.SSLContext:
        """Verifies the server's certificate and its name, against the system's CAs or
        only those of ``ca_file``."""
        return ssl.create_default_context(cafile=self.config.ca_file or None)

    def send(self, letter: Letter, *, to: str, message_id: str) -> None:
        c = self.config
        mail = email_of(letter, sender=c.sender, to=to, message_id=message_id)
        try:
            if c.tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout_s, context=self.tls_context()
                )
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            with client:
                if c.tls == "starttls":
                    client.starttls(context=self.tls_context())
                if c.user:
                    client.login(c.user, c.password)
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"smtp {c.host}:{c.port}: {exc}") from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would repeat the POST as a GET without its body: it counts as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(guard: WebhookGuard) -> urllib.request.OpenerDirector:
    """No redirects, no proxies, and every connection made by ``guard`` (to checked
    addresses only; TLS still verifies the URL's host name)."""

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(_guarded(http.client.HTTPConnection, guard), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(_guarded(http.client.HTTPSConnection, guard), req)

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects, Http, Https)


def _guarded(kind: type[http.client.HTTPConnection], guard: WebhookGuard) -> Any:
    def make(host: str, **kw: Any) -> http.client.HTTPConnection:
        connection = kind(host, **kw)
        connection._create_connection = guard.connect  # type: ignore[attr-defined]
        return connection

    return make


class WebhookPoster:
    """POSTs JSON with ``X-Station-Signature`` (see messages.signature) and the delivery's
    id in ``X-Station-Delivery``; any answer but 2xx is a failure. Only to public
    addresses, or hosts the ``guard`` allows (see :mod:`locker.notify.webhook_guard`);
    a failure names the URL without its secrets."""

    def __init__(self, guard: WebhookGuard | None = None) -> None:
        self.guard = guard or WebhookGuard()
        self._opener = _opener(self.guard)

    def post(self, url: str, body: dict[str, Any], *, secret: str, delivery_id: int) -> None:
        data = json.dumps(body, sort_keys=True).encode()
        shown = redact(url)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "open-pickup-station",
            "X-Station-Delivery": str(delivery_id),
            "X-Station-Event": str(body.get("event", "")),
            "X-Station-Signature": signature(secret, int(time.time()), data),
        }
        target = url
        try:
            parts = urllib.parse.urlsplit(url)
            if parts.username is not None:  # user:password@ is sent as Basic auth
                login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
                target = urllib.parse.urlunsplit(
                    parts._replace(netloc=parts.netloc.rpartition("@")[2])
                )
        except ValueError as exc:
            raise SendFailed(f"webhook {shown}: not a valid URL") from exc
        request = urllib.request.Request(  # noqa: S310  (the shop's or carrier's own URL)
            target, data=data, method="POST", headers=headers
        )
        try:
            with self._opener.open(request, timeout=WEBHOOK_TIMEOUT_S) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            raise SendFailed(f"webhook {shown}: HTTP {exc.code}") from exc
        except urllib.error.URLError as exc:
            raise SendFailed(scrub(f"webhook {shown}: {exc.reason}", url)) from exc
        except (OSError, ValueError, WebhookUrlForbidden, http.client.HTTPException) as exc:
            raise SendFailed(scrub(f"webhook {shown}: {exc}", url)) from exc
        if not 200 <= status < 300:
            raise SendFailed(f"webhook {shown}: HTTP {status}")
