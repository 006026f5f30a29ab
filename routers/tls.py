"""TLS for the RouterOS API (api-ssl): strong settings, a pinned certificate or a CA.

A MikroTik router usually carries a self-signed certificate, so the practical check is a pin:
the SHA-256 of the certificate the router presents, read once (``mteja router fingerprint``),
confirmed by staff, and compared on every connection before the login is sent. An operator
with their own CA can give its PEM file instead; the chain is then verified. The host name is
checked when the router is addressed by name; addressed by IP, it is checked only when the
certificate lists IP addresses (RouterOS-made certificates usually carry a CN and no SAN, and
the CA, being the operator's own, already says the certificate is one of theirs).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from core.certificates import normalize_fingerprint

__all__ = [
    "PeerCertificate",
    "fetch_certificate",
    "fingerprint_of",
    "normalize_fingerprint",
    "strong_context",
]

# TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are always strong).
STRONG_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS"


def fingerprint_of(der: bytes) -> str:
    """The SHA-256 of a DER certificate, as 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


def fingerprints_match(pinned: str, der: bytes) -> bool:
    """Whether ``der`` is the pinned certificate (compared in constant time)."""
    return hmac.compare_digest(fingerprint_of(der), normalize_fingerprint(pinned))


def strong_context(*, verify: bool = False, cafile: str | None = None) -> ssl.SSLContext:
    """TLS 1.2+, strong suites. ``verify``: the chain must lead to ``cafile`` (or, without one,
    the system's CAs); the host name is checked per connection (``host_matches``). Otherwise no
    chain check, for a pinned certificate compared after the handshake."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(STRONG_CIPHERS)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    return context


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_matches(host: str, der: bytes) -> bool:
    """Whether a CA-verified certificate may be used for ``host``: by name, the SAN (or CN)
    must match; by IP, the certificate's IP SANs must include it if it lists any."""
    certificate = x509.load_der_x509_certificate(der)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if is_ip_address(host):
        listed = san.get_values_for_type(x509.IPAddress) if san is not None else []
        return not listed or ipaddress.ip_address(host) in listed
    names = san.get_values_for_type(x509.DNSName) if san is not None else []
    if not names:
        names = [
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ]
    return any(_dns_match(host.lower(), name.lower()) for name in names)


def _dns_match(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


@dataclass(frozen=True)
class PeerCertificate:
    """What a router presents: its certificate's SHA-256, subject, issuer and validity."""

    fingerprint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime

    @classmethod
    def from_der(cls, der: bytes) -> PeerCertificate:
        certificate = x509.load_der_x509_certificate(der)
        return cls(
            fingerprint=fingerprint_of(der),
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )


def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> PeerCertificate:
    """Connect, complete the TLS handshake, and return the certificate the router presents.
    Nothing is sent over the connection: no login, no password. OSError (ssl.SSLError among
    them) when there is no TLS service there or it presents no certificate."""
    context = strong_context()
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=None) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the router presented no certificate")
    return PeerCertificate.from_der(der)
