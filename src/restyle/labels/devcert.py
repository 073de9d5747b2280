"""A local development CA and a C2PA signing certificate (ES256), for ``restyle keys c2pa-dev-cert``.

C2PA validators want an end-entity certificate that is not self-signed, with the digitalSignature key
usage, an extended key usage such as emailProtection or documentSigning (never anyExtendedKeyUsage),
and key identifiers. Such a chain is valid but untrusted: validators report it as not on a trust list
unless the CA file is given to them as a trust anchor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class DevCertFiles:
    """The files :func:`write_dev_cert` wrote."""

    chain: Path  # signing certificate then CA certificate (labels.c2pa_cert_path)
    key: Path  # the signing key, PKCS#8 PEM (labels.c2pa_key_path)
    ca: Path  # the CA certificate alone (a trust anchor for validators)
    ca_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "restyle development"),
        ]
    )


def make_dev_chain(
    common_name: str = "restyle C2PA signer (development)", days: int = 365
) -> tuple[bytes, bytes, bytes, bytes]:
    """PEM bytes of (signing cert + CA cert chain, signing key, CA cert, CA key), all P-256 / SHA-256."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=days)
    # 1. the CA: self-signed, may sign certificates only
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("restyle development CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # 2. the signer: an end entity with digitalSignature and the EKUs C2PA accepts
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = cert.public_bytes(pem) + ca.public_bytes(pem)
    return chain, _key_pem(key), ca.public_bytes(pem), _key_pem(ca_key)


def write_dev_cert(out_dir: Path, common_name: str = "restyle C2PA signer (development)") -> DevCertFiles:
    """Write the development chain and keys into ``out_dir`` (created; keys readable by the owner only)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chain, key, ca, ca_key = make_dev_chain(common_name)
    files = DevCertFiles(
        chain=out_dir / "c2pa-chain.pem",
        key=out_dir / "c2pa-signer.key",
        ca=out_dir / "c2pa-ca.pem",
        ca_key=out_dir / "c2pa-ca.key",
    )
    for path, data, secret in (
        (files.chain, chain, False),
        (files.key, key, True),
        (files.ca, ca, False),
        (files.ca_key, ca_key, True),
    ):
        path.write_bytes(data)
        if secret:
            path.chmod(0o600)
    return files


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
