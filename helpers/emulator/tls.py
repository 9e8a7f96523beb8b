"""The lab's certificate authority: TLS certificates for what the emulator serves, offline.

On AWS, the HTTPS endpoints a Lambda function reaches (API Gateway, CloudFront, S3, Amazon
Cognito, load balancers) and ElastiCache's TLS endpoints present certificates that chain to a
public root (Amazon Root CA), which every trust store holds. Offline, one certificate authority
per lab (`Authority`) stands in for it: it signs the emulator's server certificates (`issue`,
`server_context`: the HTTP front's in http.py, the caches' in elasticache.py), `ca_file` is the
lab CA alone and `bundle` a CA file of this machine's authorities plus the lab's, which the Lambda
runtime's workers use as their default trust store (SSL_CERT_FILE, see lambda_runtime.py).

Everything is made on first use: a lab that never serves or checks TLS makes no key and writes
no file. Keys are EC P-256; certificates are valid in real time (what TLS checks), not lab time.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

VALID_DAYS = 3650


class Authority:
    """One lab's certificate authority, its CA files and the server certificates it signs."""

    def __init__(self, name: str = "labbook lab CA") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._folder: str | None = None
        self._ca: tuple[Any, Any] | None = None  # (certificate, private key), made on first use
        self._bundle: str | None = None
        self._issued = 0
        self.closed = False

    @property
    def ca_file(self) -> str:
        """A PEM file holding the lab CA's certificate alone."""
        with self._lock:
            self._make_ca()
            return os.path.join(self._folder or "", "lab-ca.pem")

    @property
    def bundle(self) -> str:
        """A PEM file of this machine's authorities and the lab CA (a client's SSL_CERT_FILE)."""
        with self._lock:
            self._make_ca()
            if self._bundle is None:
                from cryptography.hazmat.primitives import serialization

                ca_pem = self._ca[0].public_bytes(serialization.Encoding.PEM)  # type: ignore[index]
                self._bundle = self._write("ca-bundle.pem", system_authorities() + ca_pem)
            return self._bundle

    def issue(self, names: Iterable[str]) -> tuple[str, str]:
        """(certificate file, key file) of a server certificate for `names`: DNS names
        (`*.example.com` wildcards too) and IP addresses, the first also its common name."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        names = list(dict.fromkeys(names))
        if not names:
            raise ValueError("a server certificate needs at least one DNS name or IP address")
        alternatives: list[x509.GeneralName] = []
        for name in names:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternatives.append(x509.DNSName(name))
        with self._lock:
            ca, ca_key = self._make_ca()
            self._issued += 1
            serial = self._issued
        now = datetime.now(timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        key_pem = key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with self._lock:
            return (
                self._write(f"server-{serial}.pem", cert.public_bytes(pem)),
                self._write(f"server-{serial}.key", key_pem),
            )

    def server_context(self, names: Iterable[str]) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate the lab CA signs for `names`."""
        cert, key = self.issue(names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    def close(self) -> None:
        """Delete the lab's CA files; certificates already loaded keep working."""
        with self._lock:
            self.closed = True
            folder, self._folder = self._folder, None
            self._ca = self._bundle = None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    # ---- with the lock held ------------------------------------------------------------------
    def _make_ca(self) -> tuple[Any, Any]:
        if self._ca is not None:
            return self._ca
        if self.closed:
            raise RuntimeError(f"{self.name}: the lab has ended, its CA files are deleted")
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.now(timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        ca = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        self._folder = tempfile.mkdtemp(prefix="labbook-ca-")
        self._write("lab-ca.pem", ca.public_bytes(serialization.Encoding.PEM))
        self._ca = (ca, key)
        return self._ca

    def _write(self, name: str, data: bytes) -> str:
        if self._folder is None:
            raise RuntimeError(f"{self.name}: the lab has ended, its CA files are deleted")
        path = os.path.join(self._folder, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def system_authorities() -> bytes:
    """The PEM authorities a default SSL context trusts through a file (kept in the bundle)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            with open(candidate, "rb") as f:
                data = f.read()
            return data if data.endswith(b"\n") else data + b"\n"
    return b""
