"""Certificates for a simulated router's api-ssl: a local CA, and router certificates signed by
it or by themselves (as a MikroTik makes its own). For tests and demos; keys are throwaway."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["Issued", "issue", "server_context"]


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, in memory and as PEM files."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    certificate_file: Path
    key_file: Path

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def issue(
    directory: Path,
    name: str,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    ip_addresses: tuple[str, ...] = (),
    dns_names: tuple[str, ...] = (),
) -> Issued:
    """A certificate with CN ``name`` signed by ``issuer`` (None: self-signed), written to
    ``directory/name.crt`` and ``.key``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
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
        )
    alternatives: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses
    ]
    alternatives += [x509.DNSName(dns) for dns in dns_names]
    if alternatives:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    directory.mkdir(parents=True, exist_ok=True)
    certificate_file = directory / f"{name}.crt"
    key_file = directory / f"{name}.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(certificate, key, certificate_file, key_file)


def server_context(issued: Issued) -> ssl.SSLContext:
    """A server-side TLS context presenting ``issued``, for ``SimulatedRouter(ssl_context=)``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.certificate_file, issued.key_file)
    return context
