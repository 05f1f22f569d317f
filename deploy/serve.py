"""Serve one class from several vggviz replicas behind HAProxy, on this machine.

    python deploy/serve.py [--replicas 2] [--port 8500] [--first-replica-port 8501]
                           [--https [--https-port 8443] [--certificate PEM | --certificate-folder certificate]]
                           [--assets-port 8499 | --no-assets]

Starts ``streamlit run app.py`` once per replica on 127.0.0.1 (each given its share of the cores),
then HAProxy (Debian: ``apt-get install haproxy``)
with deploy/haproxy.cfg, its ``server`` lines written for that many replicas. Students open
``http://THIS-MACHINE:8500``. With ``--https`` (which phones need for the camera) they open
``https://THIS-MACHINE:8443`` and the plain address redirects there; the certificate is the given PEM (the
school's: certificate and key) or one deploy/certificate.py makes for this machine's addresses in the
certificate folder, kept for the next time. Where nginx and its brotli module are installed (Debian:
``apt-get install nginx libnginx-mod-http-brotli-static``), it serves Streamlit's front end behind HAProxy,
compressed once at its best (deploy/assets.py, deploy/nginx.conf): a new student's first visit weighs about
2.4 MB instead of 4.0. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "haproxy.cfg"
NGINX_CONFIG = ROOT / "deploy" / "nginx.conf"

if __package__:  # imported as deploy.serve (the tests)
    from . import assets, certificate
else:  # run as a script: its folder is on the path
    import assets
    import certificate


def haproxy_config(replicas: list[tuple[str, str]]) -> str:
    """deploy/haproxy.cfg with one ``server`` line per (name, host:port) replica in place of its own (the
    last backend's, each set by a VGGVIZ_REPLICA_N variable)."""
    lines = [line for line in CONFIG.read_text().splitlines()
             if not (line.lstrip().startswith("server ") and "VGGVIZ_REPLICA_" in line)]
    lines += [f"    server {name} {address} cookie {name}" for name, address in replicas]
    return "\n".join(lines) + "\n"


def start_replica(port: int, threads: int, env: dict[str, str] | None = None,
                  log=subprocess.DEVNULL) -> subprocess.Popen:
    """One ``streamlit run app.py`` on 127.0.0.1:``port`` with ``threads`` torch threads."""
    env = dict(os.environ if env is None else env, OMP_NUM_THREADS=str(threads))
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def start_front_end(bind: str, folder: str) -> subprocess.Popen | None:
    """nginx serving Streamlit's front end on ``bind``, started and answering; or None, with the reason printed,
    when it cannot (not installed, the copy not made, nginx not starting): HAProxy then serves the front end
    from the replicas itself, and the class goes on."""
    missing = nginx_missing()
    if missing:
        print(f"vggviz: {missing}: {FALLBACK}", flush=True)
        return None
    if not assets.ready():
        print("vggviz: compressing Streamlit's front end once for this version (about 30 s)", flush=True)
    try:
        root = assets.prepare()
    except OSError as exc:
        print(f"vggviz: Streamlit's front end could not be compressed ({exc}): {FALLBACK}", flush=True)
        return None
    proc = start_assets(bind, folder, log=None, root=root)
    probe = next(p for p in (root / "static").rglob("*") if p.is_file()).relative_to(root).as_posix()
    try:
        wait_healthy(f"http://{bind}", timeout=15, path=f"/{probe}", process=proc)
    except TimeoutError:
        proc.terminate()
        proc.wait(timeout=30)
        print(f"vggviz: nginx did not start on {bind} (its messages above): {FALLBACK}", flush=True)
        return None
    return proc


def https_environment(pem: str | Path, https_bind: str) -> dict[str, str]:
    """The variables that turn on deploy/haproxy.cfg's HTTPS: the certificate (a PEM holding it and its key),
    where TLS is served, and the port plain HTTP is redirected to."""
    return {"VGGVIZ_CERTIFICATE": str(pem), "VGGVIZ_HTTPS_BIND": https_bind,
            "VGGVIZ_HTTPS_PORT": https_bind.rsplit(":", 1)[1]}


def start_balancer(config_text: str, bind: str, folder: str, log=subprocess.DEVNULL,
                   https: dict[str, str] | None = None, assets: str | None = None) -> subprocess.Popen:
    """HAProxy with ``config_text``, plain HTTP on ``bind``; ``https``: https_environment's variables;
    ``assets``: the host:port of start_assets's nginx, which then serves ``/static/``."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    path = Path(folder) / "haproxy.cfg"
    path.write_text(config_text)
    env = dict(os.environ, VGGVIZ_BIND=bind, **(https or {}), **({"VGGVIZ_ASSETS": assets} if assets else {}))
    return subprocess.Popen([haproxy, "-db", "-f", str(path)], env=env, stdout=log, stderr=subprocess.STDOUT)


FALLBACK = ("HAProxy compresses and caches Streamlit's front end itself, less well (docs/serving.md, A new "
            "student's first visit; Debian: apt-get install nginx libnginx-mod-http-brotli-static)")


def nginx_missing() -> str | None:
    """Why nginx cannot serve the front end here (None: it can): it, or the brotli module deploy/nginx.conf
    loads (if it loads one), is not installed."""
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        return "nginx is not installed"
    module = next((line.split()[1].rstrip(";").strip('"') for line in NGINX_CONFIG.read_text().splitlines()
                   if line.startswith("load_module ")), None)
    if module and not os.path.exists(module):
        return f"nginx's brotli module is not installed ({module})"
    return None


def nginx_config(listen: str, root: Path, run: Path) -> str:
    """deploy/nginx.conf with its fields filled in: where it listens, what it serves, where it keeps its files."""
    lines = NGINX_CONFIG.read_text().splitlines()
    for field, value in (("LISTEN", listen), ("ROOT", root), ("RUN", run)):
        lines = [line if line.lstrip().startswith("#") else line.replace("{{%s}}" % field, str(value))
                 for line in lines]
    return "\n".join(lines) + "\n"


def start_assets(bind: str, folder: str, log=subprocess.DEVNULL, root: Path | None = None) -> subprocess.Popen:
    """nginx serving Streamlit's front end on ``bind`` (host:port) from ``root`` (default: deploy/assets.py's
    copy, made now if this Streamlit version has none yet); its files in ``folder``."""
    root = assets.prepare() if root is None else root
    run = Path(folder) / "nginx"
    run.mkdir(exist_ok=True)
    (run / "nginx.conf").write_text(nginx_config(bind, root, run))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    directives = "daemon off;"
    if os.geteuid() == 0:  # as root nginx's workers would be "nobody", who cannot read a copy in root's home
        directives += f" user {pwd.getpwuid(0).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    return subprocess.Popen([nginx, "-e", "stderr", "-p", str(run), "-c", str(run / "nginx.conf"),
                             "-g", directives], stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, timeout: float = 120.0, context: ssl.SSLContext | None = None,
                 path: str = "/_stcore/health", process: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers its health check (``path``; ``context``: the TLS trust for an https:// one),
    giving up at once if ``process`` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}{path}", timeout=2, context=context).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise TimeoutError(f"{url}: the server exited ({process.returncode})") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def https_address(pem: Path, made: certificate.Made | None, port: int) -> str:
    """The address to give the students: this machine's LAN address (with a certificate made here), else the
    first name the given certificate is for."""
    if made is not None:
        ip = next((ip for ip in made.addresses if not ip.is_loopback and ip.version == 4),
                  next((ip for ip in made.addresses if not ip.is_loopback), None))
        host = (f"[{ip}]" if ip.version == 6 else str(ip)) if ip else made.names[0]
    else:
        names = certificate.names_in(pem)
        host = next((n for n in names if n != "localhost" and not n.startswith(("127.", "[::1]"))), names[0])
    return f"https://{host}" + ("" if port == 443 else f":{port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8500, help="the port students open (with --https: redirected)")
    parser.add_argument("--first-replica-port", type=int, default=8501)
    parser.add_argument("--https", action="store_true", help="serve over HTTPS (phones need it for the camera)")
    parser.add_argument("--https-port", type=int, default=8443, help="the HTTPS port students open")
    parser.add_argument("--certificate", type=Path,
                        help="a PEM file with the certificate (and its chain) and its key, such as the school's; "
                             "implies --https")
    parser.add_argument("--certificate-folder", type=Path, default=certificate.FOLDER,
                        help="without --certificate: where the certificate made for this machine is kept "
                             "(default: %(default)s)")
    parser.add_argument("--assets-port", type=int, default=8499,
                        help="where nginx serves Streamlit's front end to HAProxy, on 127.0.0.1")
    parser.add_argument("--no-assets", action="store_true",
                        help="no nginx: HAProxy compresses and caches Streamlit's front end itself")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    https = None
    if args.https or args.certificate:
        if args.certificate:
            problem = certificate.unusable(args.certificate)
            if problem:
                parser.error(f"--certificate {args.certificate}: {problem}")
            pem, made = args.certificate.resolve(), None
        else:
            made = certificate.ensure(args.certificate_folder)
            print(certificate.describe(made))
            pem = made.server
        https = https_environment(pem, f"0.0.0.0:{args.https_port}")
        address = https_address(pem, made, args.https_port)
    threads = max(1, (os.cpu_count() or 1) // args.replicas)
    replicas = [(f"r{i + 1}", args.first_replica_port + i) for i in range(args.replicas)]
    env = dict(os.environ)
    if https:  # the QR code on the app's pages carries the address the certificate is for
        env.setdefault("VGGVIZ_PUBLIC_URL", address)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stops what was started, as Ctrl-C does
    procs: list[subprocess.Popen] = []  # the replicas and HAProxy: the class stops without any of them
    nginx = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            procs += [start_replica(port, threads, env) for _, port in replicas]
            bind = f"127.0.0.1:{args.assets_port}"
            nginx = None if args.no_assets else start_front_end(bind, folder)
            for _, port in replicas:
                wait_healthy(f"http://127.0.0.1:{port}")
            config = haproxy_config([(name, f"127.0.0.1:{port}") for name, port in replicas])
            procs.append(start_balancer(config, f"0.0.0.0:{args.port}", folder, log=None, https=https,
                                        assets=bind if nginx else None))
            what = f"{args.replicas} replica{'s' if args.replicas != 1 else ''}" + (" and nginx" if nginx else "")
            if https:
                where = f"{address} (http://0.0.0.0:{args.port} redirects there; Ctrl-C stops)"
            else:
                where = f"http://0.0.0.0:{args.port} (Ctrl-C stops)"
            print(f"vggviz: {what} behind {where}", flush=True)
            while all(proc.poll() is None for proc in procs):
                if nginx is not None and nginx.poll() is not None:  # HAProxy sends /static/ to the replicas again
                    print(f"vggviz: nginx stopped: {FALLBACK}", file=sys.stderr, flush=True)
                    nginx = None
                time.sleep(1)
            print("vggviz: a process stopped; stopping the others", file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            started = procs + ([nginx] if nginx else [])
            for proc in started:
                proc.terminate()
            for proc in started:
                proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
