"""A class served as deploy/serve.py serves it, on this machine's loopback at free ports: replicas of
``streamlit run app.py`` (untrained weights, an empty gallery) behind HAProxy with deploy/haproxy.cfg, over
plain HTTP or, given a certificate, over HTTPS with plain HTTP redirected; given deploy/assets.py's copy of
Streamlit's front end, nginx serves it (deploy/nginx.conf), as serve.py does where nginx is installed. For
tests/test_serving.py and the camera test through HTTPS (tests/test_browser_camera.py)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy import certificate, serve
from helpers import free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
QUIET = "log stdout format raw local0 warning"  # deploy/haproxy.cfg's log line


def need_haproxy() -> None:
    if not os.path.exists(HAPROXY):
        if os.environ.get("CI"):
            pytest.fail(f"no HAProxy at {HAPROXY}: .ci/run installs it (apt-get install haproxy)")
        pytest.skip(f"no HAProxy at {HAPROXY} (apt-get install haproxy)")


def need_nginx() -> None:
    missing = serve.nginx_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: .ci/run installs it (apt-get install nginx libnginx-mod-http-brotli-static)")
        pytest.skip(f"{missing} (apt-get install nginx libnginx-mod-http-brotli-static)")


def loopback_certificate(folder: Path) -> certificate.Made:
    """deploy/certificate.py's files for the loopback's name and address, in ``folder``."""
    return certificate.ensure(folder, ["localhost"], [ipaddress.ip_address("127.0.0.1")])


def trusting(made: certificate.Made) -> ssl.SSLContext:
    """A client's TLS settings that trust ``made``'s authority, and it alone."""
    return ssl.create_default_context(cafile=str(made.authority))


@dataclass
class Class:
    url: str  # what the students open
    plain: str  # plain HTTP: the same as url, or redirected to it under HTTPS
    replicas: dict[str, subprocess.Popen]
    context: ssl.SSLContext | None  # trusts the class's certificate under HTTPS
    log: Path  # HAProxy's: every request, with its timers and termination state (tests/conftest.py shows it)


@contextlib.contextmanager
def served(folder: Path, names: Sequence[str] = ("r1", "r2"), made: certificate.Made | None = None,
           front_end: Path | None = None) -> Iterator[Class]:
    """Replicas ``names`` and HAProxy in front of them, over HTTPS with ``made``'s certificate if given, with
    nginx serving ``front_end`` (deploy/assets.prepare's folder) if given; logs in ``folder``."""
    need_haproxy()
    if front_end:
        need_nginx()
    env = {**os.environ, "TORCH_HOME": str(folder / "torch"), "VGGVIZ_GALLERY": str(folder / "gallery")}
    env.pop("VGGVIZ_WEIGHTS_URL", None)
    ports = {name: free_port() for name in names}
    with contextlib.ExitStack() as stack:
        logs = {name: stack.enter_context(open(folder / f"{name}.log", "w"))
                for name in [*ports, "haproxy", "nginx"]}
        procs: list[subprocess.Popen] = []

        @stack.callback
        def stop() -> None:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)

        replicas = {name: serve.start_replica(port, 1, env, logs[name]) for name, port in ports.items()}
        procs += replicas.values()
        nginx = f"127.0.0.1:{free_port()}" if front_end else None
        if nginx:
            procs.append(serve.start_assets(nginx, str(folder), logs["nginx"], root=front_end))
        for port in ports.values():
            serve.wait_healthy(f"http://127.0.0.1:{port}")
        bind = f"127.0.0.1:{free_port()}"
        https = serve.https_environment(made.server, f"127.0.0.1:{free_port()}") if made else None
        config = serve.haproxy_config([(name, f"127.0.0.1:{port}") for name, port in ports.items()])
        # Every request logged, not only warnings: a failure seen once in CI can then be read, not guessed.
        assert QUIET in config, "deploy/haproxy.cfg's log line changed: change QUIET with it"
        config = config.replace(QUIET, QUIET.replace("warning", "info"))
        procs.append(serve.start_balancer(config, bind, str(folder), logs["haproxy"], https=https, assets=nginx))
        url = f"https://{https['VGGVIZ_HTTPS_BIND']}" if https else f"http://{bind}"
        context = trusting(made) if made else None
        serve.wait_healthy(url, context=context)
        yield Class(url, f"http://{bind}", replicas, context, folder / "haproxy.log")
