"""A private certificate authority for the tests: server certificates for 127.0.0.1 and client
certificates (an app registration's), made with ``cryptography`` and trusted only through
``ca_file``, never by turning verification off."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate an application signs in with: ``pem_file`` holds key and certificate."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    pem_file: Path

    @property
    def thumbprint(self) -> str:
        """The SHA-1 thumbprint in hex, as the Azure portal shows it."""
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()


class TestAuthority:
    """A certificate authority kept in ``folder``; ``ca_file`` is its certificate (PEM)."""

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Resolution Desk test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def server_certificate(self, name: str = "server") -> tuple[Path, Path]:
        """(certificate file, key file) for 127.0.0.1, signed by this authority."""
        key = new_key()
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(private_pem(key))
        return cert_file, key_file

    def client_certificate(self, name: str, *, expired: bool = False) -> ClientCertificate:
        """A self-signed application certificate (as ``New-SelfSignedCertificate`` makes), in one PEM."""
        key = new_key()
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = (now - datetime.timedelta(days=400), now - datetime.timedelta(days=35)) if expired else (
            now - datetime.timedelta(days=1), now + datetime.timedelta(days=365))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .sign(key, hashes.SHA256())
        )
        pem_file = self.folder / f"{name}.pem"
        pem_file.write_bytes(private_pem(key) + certificate.public_bytes(serialization.Encoding.PEM))
        return ClientCertificate(certificate, key, pem_file)
