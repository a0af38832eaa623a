"""Where a webhook may go: not into the station's own network.

An admin sets a carrier's webhook URL; a URL pointing at loopback, link-local
(169.254.0.0/16 holds the cloud's metadata service), private, multicast, reserved or
otherwise non-public addresses would let that admin (or whoever took the account) make
the station call inside its network. Such URLs are refused when they are set (problem
``webhook_url_forbidden``), and every address a name resolves to is checked again when a
webhook is sent, on the very connection that is made (a name may later resolve inside;
the check and the connection use the same addresses, so a second lookup cannot move it).
Hosts named in ``LOCKER_WEBHOOK_ALLOW_HOSTS`` may be private (the shop's own server).

What staff are told of a failure names the URL only as ``scheme://host[:port]/path``:
no user, no password, no query (they often carry a token).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import urlsplit

from locker.errors import DomainError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlForbidden(DomainError):
    code = "webhook_url_forbidden"
    status = 422


def allow_list(text: str) -> frozenset[str]:
    """``LOCKER_WEBHOOK_ALLOW_HOSTS``: host names (or addresses), comma separated."""
    return frozenset(part.strip().lower().rstrip(".") for part in text.split(",") if part.strip())


def redact(url: str) -> str:
    """``scheme://host[:port]/path``: the URL without user, password, query, fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(a malformed URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}{parts.path}"


def scrub(text: str, url: str) -> str:
    """``text`` with the URL and its secret parts (user, password, query) taken out."""
    text = text.replace(url, redact(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    for secret in (parts.password, parts.username, parts.query, parts.fragment):
        if secret:
            text = text.replace(secret, "***")
    return text


def why_forbidden(address: IpAddress) -> str | None:
    """Why a webhook may not go to ``address``; None if it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if not address.is_global:  # e.g. 100.64.0.0/10, shared address space
        return "not public"
    return None


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError as exc:
        raise WebhookUrlForbidden(f"not a valid URL: {redact(url)}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlForbidden(f"a webhook URL must be http(s)://host/...: {redact(url)}")
    return parts.hostname.lower().rstrip(".")


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class WebhookGuard:
    """The webhook policy: which hosts may be private (``allow_hosts``)."""

    def __init__(self, allow_hosts: Collection[str] = ()) -> None:
        self.allow_hosts = frozenset(h.lower().rstrip(".") for h in allow_hosts)

    def allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts

    def check_url(self, url: str) -> None:
        """When a URL is set: refuse an address inside, a name that is loopback by its
        very name (``localhost``), and a name that resolves inside now (one that does not
        resolve yet is checked again at every send)."""
        host = _host(url)
        if self.allowed(host):
            return
        address = _literal(host)
        if address is not None:
            self._refuse_if_inside(redact(url), host, [address])
            return
        if host == "localhost" or host.endswith(".localhost"):
            raise WebhookUrlForbidden(
                f"{redact(url)}: {host} is loopback; a private host must be named in "
                "LOCKER_WEBHOOK_ALLOW_HOSTS"
            )
        try:
            addresses = self.resolve(host, 80)
        except OSError:
            return  # not known now: the send will resolve and check it
        self._refuse_if_inside(redact(url), host, addresses)

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]

    def _refuse_if_inside(self, what: str, host: str, addresses: list[IpAddress]) -> None:
        for address in addresses:
            why = why_forbidden(address)
            if why is not None:
                raise WebhookUrlForbidden(
                    f"{what}: {host} is {address} ({why}); a private host must be "
                    "named in LOCKER_WEBHOOK_ALLOW_HOSTS"
                )

    def connect(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """A connection for a webhook (``socket.create_connection``'s arguments), made only
        to addresses checked here: refused if any address the host name resolves to is
        inside (unless the host is allowed)."""
        host, port = address
        if self.allowed(host):
            return socket.create_connection((host, port), timeout, source_address)
        literal = _literal(host)
        addresses = [literal] if literal is not None else self.resolve(host, port)
        self._refuse_if_inside("refused", host, addresses)
        error: OSError | None = None
        for checked in addresses:
            try:
                return socket.create_connection((str(checked), port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"{host}: no address")
