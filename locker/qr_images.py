"""QR images of pickup tokens, as PNG or SVG (for the API, the screens and mail)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg


def _qr(token: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(token)
    code.make(fit=True)
    return code


def png(token: str) -> bytes:
    buffer = io.BytesIO()
    _qr(token).make_image().save(buffer)
    return buffer.getvalue()


def svg(token: str) -> bytes:
    buffer = io.BytesIO()
    _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
