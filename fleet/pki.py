"""A small certificate authority for a broker's TLS listener on one machine (``make fleet``
and the tests): a CA, a server certificate it signs for the names given, and client
certificates. Keys are new each time (EC P-256) and never leave the folder they are written
to; the CA's key is not kept at all once the certificates are made. For a broker on the
internet use a public CA's certificate (e.g. from an ACME client) instead: the stations then
trust the system's CAs and need no CA file.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate (PEM) and its key (PEM, mode 0600)."""

    cert: Path
    key: Path


class Authority:
    """A CA made now, valid for ``days``; :meth:`issue` signs server and client certificates."""

    def __init__(self, name: str, *, days: float = 30) -> None:
        self.name = name
        self.days = days
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = self._build(name, self._key.public_key(), ca=True, names=(), usage=None)

    def write_ca(self, path: Path) -> Path:
        """The CA's certificate (PEM): what a client trusts (``LOCKER_MQTT_CA_FILE``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(
        self, folder: Path, stem: str, names: tuple[str, ...], *, client: bool = False
    ) -> Issued:
        """A certificate for ``names`` (host names or IP addresses) as ``<stem>.pem`` and
        ``<stem>.key`` in ``folder``; for a server, or for a client with ``client``."""
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        cert = self._build(
            names[0] if names else stem, key.public_key(), ca=False, names=names, usage=usage
        )
        folder.mkdir(parents=True, exist_ok=True)
        issued = Issued(folder / f"{stem}.pem", folder / f"{stem}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(issued.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return issued

    def _build(
        self,
        subject: str,
        public_key: ec.EllipticCurvePublicKey,
        *,
        ca: bool,
        names: tuple[str, ...],
        usage: x509.ObjectIdentifier | None,
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=self.days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            if usage is not None:
                builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        return builder.sign(self._key, hashes.SHA256())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
