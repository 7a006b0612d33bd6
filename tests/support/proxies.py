"""Real proxy servers on loopback (pproxy): HTTP, HTTPS (TLS to the proxy), SOCKS4 and SOCKS5, with logins."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PPROXY = Path(sys.executable).with_name("pproxy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key (the client is configured to trust it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "proxy.crt", directory / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class ProxyServer:
    """One pproxy process; ``log`` collects its verbose output (one line per proxied connection)."""

    kind: str  # http | https | socks4 | socks5
    login: str | None = None
    password: str | None = None
    port: int = field(default_factory=free_port)
    cert: Path | None = None
    key: Path | None = None
    log: list[str] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None

    def start(self) -> ProxyServer:
        scheme = {"http": "http", "https": "http+ssl", "socks4": "socks4", "socks5": "socks5"}[self.kind]
        auth = ""
        if self.login:
            auth = f"#{self.login}:{self.password}" if self.password else f"#{self.login}"
        command = [str(PPROXY), "-l", f"{scheme}://127.0.0.1:{self.port}{auth}", "--auth", "0", "-v"]
        if self.kind == "https":
            command += ["--ssl", f"{self.cert},{self.key}"]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        threading.Thread(target=self._collect, daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"pproxy {self.kind} did not start: {self.log}")

    def _collect(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.log.append(line.rstrip())

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=5)

    def settings(self) -> dict[str, object]:
        """The account fields that point at this proxy."""
        body: dict[str, object] = {"proxyType": self.kind, "proxyHost": "127.0.0.1", "proxyPort": self.port}
        if self.login:
            body["proxyLogin"] = self.login
        if self.password:
            body["proxyPassword"] = self.password
        return body


def start_proxies() -> tuple[dict[str, ProxyServer], Path]:
    directory = Path(tempfile.mkdtemp(prefix="proxies-"))
    cert, key = self_signed_cert(directory)
    proxies = {
        "http": ProxyServer("http", "puser", "p@ss:w/rd"),
        "https": ProxyServer("https", "suser", "s3cret", cert=cert, key=key),
        "socks5": ProxyServer("socks5", "s5user", "s5pass"),
        "socks4": ProxyServer("socks4", "s4user"),
    }
    for proxy in proxies.values():
        proxy.start()
    return proxies, cert
