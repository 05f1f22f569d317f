"""A certificate for serving a class over HTTPS on the school's network (phones allow the camera only on a
secure page), made with the maintained ``cryptography`` package.

    python deploy/certificate.py [--folder certificate] [--name NAME ...] [--ip ADDRESS ...]

writes into the folder (default ``certificate/`` beside app.py):

- ``vggviz.pem``: the server's certificate and private key, for HAProxy (``VGGVIZ_CERTIFICATE``), valid for
  this machine's LAN addresses and names (its host name, ``NAME.local``, localhost) and any given;
- ``ca.pem``: the small certificate authority that signed it, the one file to install on a phone (or a
  school's managed devices) so that it trusts the server without a warning; ``ca-key.pem``, its key,
  stays on this machine.

The authority may sign only for private and loopback addresses and for the names it was made with (X.509
name constraints): a phone that trusts it trusts nothing else on the Internet because of it. Run again, it
keeps what is still good (the authority, and the server certificate while it covers the machine's addresses
and has a month left) and makes anew only what is not, so phones that installed ``ca.pem`` keep trusting the
server when its address changes. Files are written atomically; the keys are readable by their owner only.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "certificate"
SERVER, AUTHORITY, AUTHORITY_KEY = "vggviz.pem", "ca.pem", "ca-key.pem"
SERVER_DAYS = 397  # within what browsers and Apple's devices accept for a server certificate
AUTHORITY_DAYS = 3650
RENEW_DAYS = 30
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Where a classroom server can be: private and loopback ranges (RFC 1918, RFC 4193, link-local, loopback).
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                              "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128")]


@dataclass(frozen=True)
class Made:
    """The files of one run and what was made anew in it."""

    server: Path  # certificate and key, for HAProxy
    authority: Path  # the certificate to install on phones
    new_server: bool
    new_authority: bool
    replaced_authority: bool  # there was one, no longer good: phones that installed it need the new one
    names: tuple[str, ...]
    addresses: tuple[IP, ...]


def _interface_addresses() -> list[IP]:
    """Every network interface's global addresses, from iproute2 (Linux; none elsewhere): a classroom's own
    Wi-Fi may have no default route."""
    try:
        out = subprocess.run(["ip", "-j", "address"], capture_output=True, text=True, timeout=5, check=True).stdout
        return [ipaddress.ip_address(a["local"]) for interface in json.loads(out)
                for a in interface.get("addr_info", []) if a.get("scope") == "global" and "local" in a]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return []


def lan_addresses() -> list[IP]:
    """This machine's addresses a phone on the same network can reach, loopback included: the one its
    default route leaves from first (a UDP socket's ``connect`` sends nothing), then its interfaces' and those
    its host name resolves to."""
    found: list[IP] = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):  # documentation ranges
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.append(ipaddress.ip_address(s.getsockname()[0].split("%")[0]))
        except OSError:
            pass
    found += _interface_addresses()
    try:
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None):
            found.append(ipaddress.ip_address(sockaddr[0].split("%")[0]))
    except OSError:
        pass
    return list(dict.fromkeys(ip for ip in found if not ip.is_unspecified))


def host_names() -> list[str]:
    """This machine's names: its host name, the ``.local`` name phones find it by on most networks (mDNS), its
    fully qualified name, localhost."""
    host = socket.gethostname().split(".")[0].lower()
    names = [host, f"{host}.local", socket.getfqdn().lower(), "localhost"]
    return list(dict.fromkeys(n for n in names if n))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """``data`` into ``path`` atomically (a temporary file beside it, then renamed), with permissions ``mode``
    (keys: their owner's only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _permits(constraints: x509.NameConstraints, names: list[str], addresses: list[IP]) -> bool:
    dns = [g.value.lower() for g in constraints.permitted_subtrees or [] if isinstance(g, x509.DNSName)]
    nets = [g.value for g in constraints.permitted_subtrees or [] if isinstance(g, x509.IPAddress)]
    return (all(any(n == d or n.endswith("." + d) for d in dns) for n in names)
            and all(any(ip.version == net.version and ip in net for net in nets) for ip in addresses))


def _authority(names: list[str], addresses: list[IP]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"vggviz classroom CA ({names[0]})")])
    nets = list(dict.fromkeys(PRIVATE + [ipaddress.ip_network(ip) for ip in addresses]))
    dns = list(dict.fromkeys([*names, "localhost", "local"]))
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=AUTHORITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(
                permitted_subtrees=[*(x509.DNSName(d) for d in dns), *(x509.IPAddress(n) for n in nets)],
                excluded_subtrees=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _server(names: list[str], addresses: list[IP], authority: x509.Certificate,
            authority_key: ec.EllipticCurvePrivateKey) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(authority.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names),
                                                        *(x509.IPAddress(ip) for ip in addresses)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
                           critical=False)
            .sign(authority_key, hashes.SHA256()))
    return cert, key


def _still_good(cert: x509.Certificate, days: int = RENEW_DAYS) -> bool:
    return cert.not_valid_after_utc - _now() > datetime.timedelta(days=days)


def _covers(cert: x509.Certificate, names: list[str], addresses: list[IP]) -> bool:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (set(names) <= {n.lower() for n in san.get_values_for_type(x509.DNSName)}
            and set(addresses) <= set(san.get_values_for_type(x509.IPAddress)))


def _load_authority(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    try:
        cert = x509.load_pem_x509_certificate((folder / AUTHORITY).read_bytes())
        key = serialization.load_pem_private_key((folder / AUTHORITY_KEY).read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    return (cert, key) if isinstance(key, ec.EllipticCurvePrivateKey) else None


def _load_server(folder: Path) -> x509.Certificate | None:
    try:
        data = (folder / SERVER).read_bytes()
        serialization.load_pem_private_key(data, password=None)  # the key is there too
        return x509.load_pem_x509_certificates(data)[0]
    except (OSError, ValueError):
        return None


def public_key_pin(pem: Path) -> str:
    """The server certificate's public key as Chromium's ``--ignore-certificate-errors-spki-list`` takes it (the
    base64 of the SHA-256 of its SubjectPublicKeyInfo): a browser told it trusts the class's server as it would
    after installing ``ca.pem`` (for the tests and the bench; Chromium keeps no cache for a page whose
    certificate error was only ignored)."""
    cert = x509.load_pem_x509_certificates(pem.read_bytes())[0]
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def unusable(pem: Path) -> str | None:
    """Why HAProxy could not serve with ``pem`` (a certificate, such as the school's, and its key, in the file
    or beside it as ``PEM.key``), or None."""
    try:
        data = Path(pem).read_bytes()
        cert = x509.load_pem_x509_certificates(data)[0]
    except OSError as e:
        return e.strerror or str(e)
    except ValueError:
        return "no PEM certificate in it"
    for source in (data, Path(f"{pem}.key")):
        try:
            serialization.load_pem_private_key(source if isinstance(source, bytes) else source.read_bytes(),
                                               password=None)
            break
        except (OSError, ValueError, TypeError):
            continue
    else:
        return "no unencrypted private key in it (nor in a .key file beside it)"
    if cert.not_valid_after_utc < _now():
        return f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


def names_in(pem: Path) -> list[str]:
    """The names, then the addresses, that the first certificate in ``pem`` is for (wildcards left out)."""
    cert = x509.load_pem_x509_certificates(Path(pem).read_bytes())[0]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [socket.gethostname()]
    names = [n for n in san.get_values_for_type(x509.DNSName) if "*" not in n]
    ips = [f"[{ip}]" if ip.version == 6 else str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return [*names, *ips] or [socket.gethostname()]


def ensure(folder: Path = FOLDER, names: list[str] | None = None,
           addresses: list[IP] | None = None) -> Made:
    """The server certificate in ``folder`` for ``names`` and ``addresses`` (default: this machine's), reusing
    what is there while it is still good, making anew what is not."""
    names = list(dict.fromkeys(n.lower() for n in (host_names() if names is None else names)))
    addresses = list(dict.fromkeys(lan_addresses() if addresses is None else addresses))
    if not names:
        raise ValueError("a certificate needs at least one name")
    folder = Path(folder)
    authority = _load_authority(folder)
    replaced = authority is not None
    new_authority = not (authority and _still_good(authority[0], SERVER_DAYS) and _permits(
        authority[0].extensions.get_extension_for_class(x509.NameConstraints).value, names, addresses))
    if new_authority:
        authority = _authority(names, addresses)
        _write(folder / AUTHORITY_KEY, _key_pem(authority[1]))
        _write(folder / AUTHORITY, authority[0].public_bytes(serialization.Encoding.PEM), 0o644)
    ca, ca_key = authority
    server = None if new_authority else _load_server(folder)
    new_server = not (server and server.issuer == ca.subject and _still_good(server)
                      and _covers(server, names, addresses))
    if new_server:
        cert, key = _server(names, addresses, ca, ca_key)
        _write(folder / SERVER, cert.public_bytes(serialization.Encoding.PEM) + _key_pem(key))
    return Made(folder / SERVER, folder / AUTHORITY, new_server, new_authority, replaced and new_authority,
                tuple(names), tuple(addresses))


def describe(made: Made) -> str:
    """What a run did, for the teacher's terminal."""
    state = "made" if made.new_server else "kept"
    note = (" (replaced: phones that installed the previous one need this one)" if made.replaced_authority
            else " (new)" if made.new_authority else "")
    return "\n".join([f"vggviz: server certificate {state}: {made.server}",
                      f"  for {', '.join([*made.names, *map(str, made.addresses)])}",
                      f"  signed by {made.authority}{note}: install it on a phone to skip the warning"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the files go (default: %(default)s)")
    parser.add_argument("--name", action="append", default=[], help="another name the phones use (repeatable)")
    parser.add_argument("--ip", action="append", default=[], type=ipaddress.ip_address,
                        help="another address the phones use (repeatable)")
    args = parser.parse_args(argv)
    made = ensure(args.folder, [*host_names(), *args.name], [*lan_addresses(), *args.ip])
    print(describe(made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
