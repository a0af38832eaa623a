"""The security headers every screen page gets, on the station and on the hub: no framing
(clickjacking), no sniffing, no referrer beyond the site, and a Content-Security-Policy that
lets a page load only its own scripts and styles. Inline style attributes stay allowed (the
front's doors are placed with them); inline style elements and scripts do not (htmx is told
not to add its indicator styles)."""

from __future__ import annotations

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SCREEN_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
