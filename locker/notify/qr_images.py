"""QR images of pickup tokens, as PNG or SVG (for the API, the screens and mail).

``qrcode`` (and the XML and image code it pulls in) is loaded on the first image, not at
start: most starts of the station never draw one before a parcel is stored.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import qrcode


def _qr(token: str) -> qrcode.QRCode:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(token)
    code.make(fit=True)
    return code


def png(token: str) -> bytes:
    buffer = io.BytesIO()
    _qr(token).make_image().save(buffer)
    return buffer.getvalue()


def svg(token: str) -> bytes:
    import qrcode.image.svg

    buffer = io.BytesIO()
    _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
