"""deploy/certificate.py: the classroom certificate, checked by an independent verifier (the ``openssl``
command line): it is valid for the names and addresses asked for and no other, for a TLS server; the
authority that signed it cannot vouch for a name outside its constraints (a phone that installed it trusts
nothing else on the Internet because of it); a second run keeps what is still good; keys are private."""

from __future__ import annotations

import ipaddress
import os
import shutil
import stat
import subprocess

import pytest

from deploy import certificate

OPENSSL = shutil.which("openssl")
if OPENSSL is None:
    if os.environ.get("CI"):
        pytest.fail("no openssl command line: .ci/run installs it (apt-get install openssl)", pytrace=False)
    pytest.skip("no openssl command line to verify with (apt-get install openssl)", allow_module_level=True)
PRIVATE_IP = ipaddress.ip_address("192.168.7.20")


def verify(made: certificate.Made, *check: str, pem=None) -> subprocess.CompletedProcess:
    return subprocess.run([OPENSSL, "verify", "-CAfile", str(made.authority), "-purpose", "sslserver", *check,
                           str(pem or made.server)], capture_output=True, text=True)


@pytest.fixture
def made(tmp_path):
    return certificate.ensure(tmp_path, ["teacher-pc", "teacher-pc.local", "localhost"],
                              [PRIVATE_IP, ipaddress.ip_address("127.0.0.1")])


def test_the_server_certificate_is_valid_for_its_names_and_addresses_only(made):
    assert made.new_server and made.new_authority and not made.replaced_authority
    for check in (["-verify_hostname", "teacher-pc.local"], ["-verify_hostname", "localhost"],
                  ["-verify_ip", "192.168.7.20"], ["-verify_ip", "127.0.0.1"]):
        result = verify(made, *check)
        assert result.returncode == 0, (check, result.stdout + result.stderr)
    for check in (["-verify_hostname", "example.com"], ["-verify_ip", "192.168.7.21"]):
        assert verify(made, *check).returncode != 0, check


def test_the_authority_cannot_vouch_for_a_name_outside_the_classroom(made, tmp_path):
    """A certificate for a bank's name, signed with the authority's own key by openssl (as a thief of
    ca-key.pem would), fails verification: the authority's name constraints forbid it."""
    key, forged = tmp_path / "forged-key.pem", tmp_path / "forged.pem"
    for name in ("bank.example", "8.8.8.8"):
        san = f"IP:{name}" if name[0].isdigit() else f"DNS:{name}"
        request = subprocess.run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                  "-nodes", "-keyout", str(key), "-subj", f"/CN={name}",
                                  "-addext", f"subjectAltName={san}"], capture_output=True, check=True)
        subprocess.run([OPENSSL, "x509", "-req", "-days", "30", "-CA", str(made.authority), "-CAkey",
                        str(made.authority.with_name(certificate.AUTHORITY_KEY)), "-copy_extensions", "copy",
                        "-out", str(forged)], input=request.stdout, capture_output=True, check=True)
        result = verify(made, pem=forged)
        assert result.returncode != 0 and "subtree" in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_second_run_keeps_what_is_good_and_renews_what_is_not(made, tmp_path):
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = certificate.ensure(tmp_path, list(made.names), list(made.addresses))
    assert not again.new_server and not again.new_authority
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    # The machine got another address on the school's network: a new server certificate, the same authority
    # (phones that installed it keep trusting the server).
    moved = certificate.ensure(tmp_path, list(made.names), [ipaddress.ip_address("10.1.2.3")])
    assert moved.new_server and not moved.new_authority
    assert made.authority.read_bytes() == files[certificate.AUTHORITY]
    assert verify(moved, "-verify_ip", "10.1.2.3").returncode == 0
    # A name outside the authority's constraints: a new authority, said so.
    renamed = certificate.ensure(tmp_path, ["vggviz.school.example"], [])
    assert renamed.new_server and renamed.replaced_authority
    assert verify(renamed, "-verify_hostname", "vggviz.school.example").returncode == 0


def test_keys_are_private_and_files_are_whole(made, tmp_path):
    mode = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert mode == {certificate.SERVER: 0o600, certificate.AUTHORITY_KEY: 0o600, certificate.AUTHORITY: 0o644}
    assert certificate.unusable(made.server) is None  # a certificate and its key, as HAProxy needs
    assert "private key" in certificate.unusable(made.authority)
    assert certificate.unusable(tmp_path / "missing.pem")
    (tmp_path / "broken.pem").write_text("not a certificate")
    assert "no PEM certificate" in certificate.unusable(tmp_path / "broken.pem")
    assert certificate.names_in(made.server) == ["teacher-pc", "teacher-pc.local", "localhost", "192.168.7.20",
                                                 "127.0.0.1"]
