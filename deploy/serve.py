"""Serve one class from several vggviz replicas behind HAProxy, on this machine.

    python deploy/serve.py [--replicas 2] [--port 8500] [--first-replica-port 8501]

Starts ``streamlit run app.py`` once per replica on 127.0.0.1 (each given its share of the cores),
then HAProxy (Debian: ``apt-get install haproxy``)
with deploy/haproxy.cfg, its ``server`` lines written for that many replicas. Students open
``http://THIS-MACHINE:8500``. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "haproxy.cfg"


def haproxy_config(replicas: list[tuple[str, str]]) -> str:
    """deploy/haproxy.cfg with one ``server`` line per (name, host:port) replica in place of its own."""
    lines = [line for line in CONFIG.read_text().splitlines() if not line.lstrip().startswith("server ")]
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


def start_balancer(config_text: str, bind: str, folder: str, log=subprocess.DEVNULL) -> subprocess.Popen:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    path = Path(folder) / "haproxy.cfg"
    path.write_text(config_text)
    return subprocess.Popen([haproxy, "-db", "-f", str(path)], env=dict(os.environ, VGGVIZ_BIND=bind),
                            stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8500, help="the port students open")
    parser.add_argument("--first-replica-port", type=int, default=8501)
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    threads = max(1, (os.cpu_count() or 1) // args.replicas)
    replicas = [(f"r{i + 1}", args.first_replica_port + i) for i in range(args.replicas)]
    procs = [start_replica(port, threads) for _, port in replicas]
    with tempfile.TemporaryDirectory() as folder:
        try:
            for _, port in replicas:
                wait_healthy(f"http://127.0.0.1:{port}")
            config = haproxy_config([(name, f"127.0.0.1:{port}") for name, port in replicas])
            procs.append(start_balancer(config, f"0.0.0.0:{args.port}", folder, log=None))
            print(f"vggviz: {args.replicas} replicas behind http://0.0.0.0:{args.port} (Ctrl-C stops)")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while all(proc.poll() is None for proc in procs):
                time.sleep(1)
            print("vggviz: a process stopped; stopping the others", file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
