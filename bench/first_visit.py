"""A new student's first visit in real Chromium: the bytes on the wire and the app servers' CPU for the home page
and then Predict, with a fresh browser profile and then a warm one (a second tab of the same profile: a new
session with the browser's cache full), on three setups: a bare ``streamlit run app.py``; deploy/serve.py's
replicas behind HAProxy alone (``--no-assets``: its gzip and its cache of Streamlit's static files and media);
and the class as ``serve.py --https`` serves phones (HTTPS, nginx sending the front end compressed once at its
best: deploy/assets.py, deploy/nginx.conf); on that last one, also a browser that takes only gzip, and a class
of 30 joining at once.

Bytes are what Chromium's network layer counted (DevTools protocol): ``encodedDataLength`` of every HTTP
response, headers included, as received (compressed where it was), plus the websocket frames' payloads both
ways. CPU is each app-server process's CPU-time clock (user + system, every thread, to the nanosecond:
bench/cpu.py): each visit's less the servers' CPU over as long a time right after it with nobody visiting
(Streamlit's own timers, HAProxy's health checks: 2-5 ms a second a replica), and each figure the mean of
``repeats`` visits (bytes: the median). Chromium runs on the same machine but not on the same cores: the
servers get one half of them and Chromium the other (``cpu.apart``), as a class's phones are not the server;
only the class joining at once has every core for everything, and its times are Chromium's as much as the
servers'.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import cpu
from bench.cpu import cpu_seconds
from bench.timing import Bench, timed

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]  # as docs/browser_app.py
TIMEOUT = 120_000  # ms: a cold replica on two busy cores
HOME_TITLE = "Inside VGG"
CLASS_SIZE = 30
REPLICAS = 2
# Targets (issue 24): absolute ones carry their unit; the warm session's is a ratio to a bare forward.
FIRST_VISIT_MB, FIRST_VISIT_CPU_MS, WARM_SESSION_RATIO = 2.5, 20.0, 0.3
# A browser that takes only gzip: what Chromium asks for over plain HTTP on a LAN (it asks for brotli over
# HTTPS and from localhost only).
GZIP_ONLY = {"extra_http_headers": {"Accept-Encoding": "gzip, deflate"}}


def idle_rate(pids: list[int], seconds: float = 3.0) -> float:
    """CPU seconds per second that ``pids`` use with nobody visiting."""
    start = cpu_seconds(pids)
    time.sleep(seconds)
    return (cpu_seconds(pids) - start) / seconds


# --- the two setups ----------------------------------------------------------------------------------
@dataclass
class Setup:
    name: str
    url: str
    app_pids: list[int]  # the app servers (streamlit)
    proxy_pids: list[int]  # HAProxy and nginx (its workers included), if any
    chromium_args: tuple[str, ...] = ()  # for a browser that trusts the setup's certificate


@contextlib.contextmanager
def bare() -> Iterator[Setup]:
    """``streamlit run app.py`` alone, as a teacher starts it (bench.server: untrained weights)."""
    from bench.server import Server

    with Server() as server:
        yield Setup("bare", server.url, [server.proc.pid], [])


def with_workers(pid: int) -> list[int]:
    """``pid`` and its children (nginx's master and its workers, which do the sending)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


@contextlib.contextmanager
def proxied(replicas: int = REPLICAS, https: bool = False) -> Iterator[Setup]:
    """deploy/serve.py's setup on the loopback: ``replicas`` replicas (each its share of the cores) behind
    HAProxy with deploy/haproxy.cfg; with ``https``, as ``serve.py --https`` (a certificate for the loopback,
    nginx serving the front end from deploy/assets.py's copy, made now if there is none), else as
    ``serve.py --no-assets`` over plain HTTP."""
    import ipaddress
    import ssl

    from bench.server import _free_port
    from deploy import certificate, serve

    folder = Path(tempfile.mkdtemp(prefix="vggviz-first-visit-"))
    env = dict(os.environ, TORCH_HOME=str(folder / "torch"), VGGVIZ_GALLERY=str(folder / "gallery"))
    env.pop("VGGVIZ_WEIGHTS_URL", None)
    threads = max(1, (os.cpu_count() or 1) // replicas)
    ports = [_free_port() for _ in range(replicas)]
    procs = [serve.start_replica(port, threads, env) for port in ports]
    bind, nginx, tls, context = f"127.0.0.1:{_free_port()}", None, None, None
    try:
        if https:
            missing = serve.nginx_missing()
            if missing:
                raise RuntimeError(f"{missing} (apt-get install nginx libnginx-mod-http-brotli-static)")
            nginx = f"127.0.0.1:{_free_port()}"
            procs.append(serve.start_assets(nginx, str(folder)))
            made = certificate.ensure(folder / "certificate", ["localhost"], [ipaddress.ip_address("127.0.0.1")])
            tls = serve.https_environment(made.server, f"127.0.0.1:{_free_port()}")
            context = ssl.create_default_context(cafile=str(made.authority))
        for port in ports:
            serve.wait_healthy(f"http://127.0.0.1:{port}")
        config = serve.haproxy_config([(f"r{i + 1}", f"127.0.0.1:{port}") for i, port in enumerate(ports)])
        procs.append(serve.start_balancer(config, bind, str(folder), https=tls, assets=nginx))
        url = f"https://{tls['VGGVIZ_HTTPS_BIND']}" if tls else f"http://{bind}"
        serve.wait_healthy(url, context=context)
        others = [p.pid for p in procs[replicas:]]
        trust = (f"--ignore-certificate-errors-spki-list={certificate.public_key_pin(made.server)}",) if https else ()
        yield Setup("class" if https else "proxy", url, [p.pid for p in procs[:replicas]],
                    [pid for p in others for pid in with_workers(p)], trust)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


# --- one visit -----------------------------------------------------------------------------------------
class Traffic:
    """What Chromium's network layer received and sent for one page (tab), from the DevTools protocol."""

    def __init__(self, context, page):
        self.http = {}  # request id -> encoded bytes received (headers and body, as on the wire)
        self.urls = {}  # request id -> URL
        self.websocket = 0
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", lambda e: self.urls.__setitem__(e["requestId"], e["response"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda e: self.http.__setitem__(e["requestId"], e["encodedDataLength"]))
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.on("Network.webSocketFrameSent", self._frame)

    def _frame(self, event) -> None:
        frame = event["response"]
        data = frame["payloadData"]
        self.websocket += len(base64.b64decode(data)) if frame["opcode"] == 2 else len(data.encode())

    @property
    def bytes(self) -> int:
        return sum(self.http.values()) + self.websocket

    def largest(self, n: int = 3) -> list[tuple[int, str]]:
        return sorted(((b, self.urls.get(r, "?").rsplit("/", 1)[-1]) for r, b in self.http.items()), reverse=True)[:n]


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    return expect


def open_home(page, url: str) -> None:
    """The home page in English, drawn: its title, its four figures, its QR code, no script run going on."""
    expect = _expect()
    page.goto(f"{url}/?lang=en")
    expect(page.get_by_role("heading", name=HOME_TITLE)).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").nth(3)).not_to_be_empty()
    expect(page.get_by_test_id("stImage").locator("img").first).to_have_js_property("complete", True)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)


def open_predict(page) -> None:
    """From there to Predict by its link in the navigation: the sample photo and the top-5 chart drawn."""
    expect = _expect()
    page.get_by_test_id("stSidebarNav").locator('a[href$="/predict"]').click()
    expect(page).to_have_url(re.compile(r"/predict(\?|$)"))
    photo = page.get_by_test_id("stImage").locator("img").first
    expect(photo).to_have_js_property("complete", True)
    expect(photo).not_to_have_js_property("naturalWidth", 0)
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)


@dataclass
class Visit:
    bytes: int
    cpu: float  # the app servers' CPU seconds, their idle share taken off
    proxy_cpu: float  # HAProxy's, likewise
    largest: list[tuple[int, str]]  # the largest responses: (bytes, file name)
    home_cpu: float = 0.0  # the app servers' CPU until the home page was drawn
    home_bytes: int = 0  # the bytes until then


def visit(context, setup: Setup) -> Visit:
    """A new tab of ``context`` opens the home page and then Predict, and is closed (the session ends). The
    servers' CPU over as long a time right after, with nobody visiting, is taken off."""
    cpu0, proxy0, start = cpu_seconds(setup.app_pids), cpu_seconds(setup.proxy_pids), time.perf_counter()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    traffic = Traffic(context, page)
    open_home(page, setup.url)
    home_cpu, home_seconds, home_bytes = (cpu_seconds(setup.app_pids) - cpu0, time.perf_counter() - start,
                                          traffic.bytes)
    open_predict(page)
    page.close()
    time.sleep(0.5)  # the server ends the session
    cpu, proxy = cpu_seconds(setup.app_pids) - cpu0, cpu_seconds(setup.proxy_pids) - proxy0
    elapsed = time.perf_counter() - start
    idle0, idle_proxy0 = cpu_seconds(setup.app_pids), cpu_seconds(setup.proxy_pids)
    time.sleep(elapsed)
    idle, idle_proxy = cpu_seconds(setup.app_pids) - idle0, cpu_seconds(setup.proxy_pids) - idle_proxy0
    return Visit(traffic.bytes, cpu - idle, proxy - idle_proxy, traffic.largest(),
                 home_cpu - idle * home_seconds / elapsed, home_bytes)


def warm_up(browser, setup: Setup, replicas: int) -> list:
    """Students before this one: every replica has run the pages and computed the sample's predictions, and
    the proxy's cache holds the static files. Fresh profiles until each replica has had one; those stay
    connected (returned: their browser contexts), as a class's other students and the teacher's projector
    do. Streamlit keeps the pages' compiled code while any session is connected and drops it when the last
    one leaves (a few ms of a replica's CPU per visit then go to compiling app.py and two
    pages again), which in a class does not happen."""
    seen: set[str] = set()
    staying = []
    for _ in range(4 * replicas):
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        open_home(page, setup.url)
        open_predict(page)
        replica = {c["value"] for c in context.cookies() if c["name"] == "vggviz_replica"} - seen
        if replica or not staying:
            staying.append(context)
        else:
            context.close()
        seen |= replica
        if len(seen) >= replicas or not setup.proxy_pids:
            return staying
    raise RuntimeError(f"the warm-up reached replicas {sorted(seen)} only")


@dataclass
class Visits:
    fresh: list[Visit]
    warm: list[Visit]
    gzip_only: list[Visit] | None = None  # fresh profiles of a browser that takes only gzip

    @staticmethod
    def median(visits: list[Visit], field: str) -> float:
        return statistics.median(getattr(v, field) for v in visits)

    @staticmethod
    def mean(visits: list[Visit], field: str) -> float:
        return statistics.fmean(getattr(v, field) for v in visits)


def measure(browser, setup: Setup, repeats: int, gzip_only: int = 0) -> Visits:
    """``repeats`` new students, each with a fresh profile (a new browser context: empty cache, no cookies),
    then a second tab of the same profile; and ``gzip_only`` fresh profiles of a browser that takes only
    gzip."""
    staying = warm_up(browser, setup, REPLICAS if setup.proxy_pids else 1)
    fresh, warm = [], []
    for _ in range(repeats):
        context = browser.new_context()
        fresh.append(visit(context, setup))
        warm.append(visit(context, setup))
        context.close()
    gzipped = []
    for _ in range(gzip_only):
        context = browser.new_context(**GZIP_ONLY)
        gzipped.append(visit(context, setup))
        context.close()
    for context in staying:
        context.close()
    return Visits(fresh, warm, gzipped)


# --- a class joining at once ---------------------------------------------------------------------------
async def _class_joins(url: str, students: int, args: tuple[str, ...] = ()) -> tuple[float, list[float]]:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS + list(args))
        pages = []
        for _ in range(students):
            context = await browser.new_context()
            context.set_default_timeout(TIMEOUT)
            pages.append(await context.new_page())

        async def student(page) -> float:
            await page.goto(f"{url}/?lang=en", wait_until="commit")
            await expect(page.get_by_role("heading", name=HOME_TITLE)).to_be_visible()
            await expect(page.get_by_test_id("stMetricValue").nth(3)).not_to_be_empty()
            return time.perf_counter() - start

        start = time.perf_counter()
        seconds = await asyncio.gather(*(student(page) for page in pages))
        elapsed = time.perf_counter() - start
        await browser.close()
    return elapsed, list(seconds)


def class_joins(setup: Setup, students: int = CLASS_SIZE) -> tuple[float, float, float, float, float]:
    """``students`` fresh profiles (30 browser contexts of one Chromium, each its own tab) open the home page at
    the same moment, through the proxy. Returns the seconds until the last sees the home page's title and
    figures, one student's own seconds alone, the app servers' and HAProxy's CPU seconds from the moment they
    start until 2 s after the last has it, and the app servers' CPU over as long a time right after, measured
    over 10 s (the 30 sessions then closing: it holds some of the class's own work, so it is reported beside,
    not taken off)."""
    one, _ = asyncio.run(_class_joins(setup.url, 1, setup.chromium_args))
    time.sleep(2)  # that student's session ends
    cpu0, proxy0, start = cpu_seconds(setup.app_pids), cpu_seconds(setup.proxy_pids), time.perf_counter()
    elapsed, _ = asyncio.run(_class_joins(setup.url, students, setup.chromium_args))
    time.sleep(2)
    cpu, proxy, window = (cpu_seconds(setup.app_pids) - cpu0, cpu_seconds(setup.proxy_pids) - proxy0,
                          time.perf_counter() - start)
    return elapsed, one, cpu, proxy, idle_rate(setup.app_pids, 10.0) * window


# --- the figures -----------------------------------------------------------------------------------------
def _row(figure: str, what: str, value: float, unit: str, baseline: str | None, baseline_value: float | None,
         target: float | None = None, target_unit: str = "", ratio_target: float | None = None) -> dict:
    """A row of the bench's table. ``target``: at most this ``value`` (in ``unit``); ``ratio_target``: at most
    this ratio to the baseline."""
    ratio = None if not baseline_value else round(value / baseline_value, 3)
    ok = None
    if target is not None:
        ok = value <= target
    if ratio_target is not None:
        ok, target, target_unit = ratio <= ratio_target, ratio_target, ""
    return {"figure": figure, "what": what, "value": round(value, 3 if unit == "MB" else 2), "unit": unit,
            "baseline": baseline, "baseline_value": None if baseline_value is None else round(baseline_value, 2),
            "ratio": ratio, "target": target, "target_unit": target_unit, "ok": ok}


def figures(bench: Bench) -> None:
    """The three setups, fresh and warm visits (and gzip-only ones on the class's), then 30 students joining the
    class's; rows against a bare forward timed before each setup (no server running), the median of those."""
    import functools

    from playwright.sync_api import sync_playwright

    forwards = []
    results: dict[str, Visits] = {}
    for start in (bare, proxied, functools.partial(proxied, https=True)):
        forwards.append(timed(bench.bare_forward(), max(bench.repeats, 5)))  # no server running
        with start() as setup:
            with cpu.apart(setup.app_pids + setup.proxy_pids), sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + list(setup.chromium_args))
                results[setup.name] = measure(browser, setup, bench.repeats,
                                              gzip_only=bench.repeats if setup.name == "class" else 0)
                browser.close()
            if setup.name == "class":  # Playwright's asynchronous API, outside the synchronous one's loop
                join = class_joins(setup)
    bench.rows += rows(results, join, statistics.median(forwards), bench.repeats)


def rows(results: dict[str, Visits], join: tuple[float, float, float, float, float], forward: float,
         repeats: int) -> list[dict]:
    """The table's rows from the ``bare``, ``proxy`` (HAProxy alone) and ``class`` (serve.py --https: nginx
    and TLS) visits, the class joining (``class_joins``) and the bare forward's seconds."""
    base, n, out = "bare forward", repeats, []
    mb = {k: Visits.median(v.fresh, "bytes") / 1e6 for k, v in results.items()}
    home = {k: Visits.median(v.fresh, "home_bytes") / 1e6 for k, v in results.items()}

    def largest(name: str) -> str:
        return ", ".join(f"{file} {b / 1e6:.2f} MB" for b, file in results[name].fresh[0].largest[:2])

    out.append(_row("first_visit_bytes_bare", f"bytes on the wire, a new student (fresh profile) opens home then "
                    f"Predict, bare streamlit run app.py (median of {n}; the home page: {home['bare']:.2f} MB)",
                    mb["bare"], "MB", None, None))
    out.append(_row("first_visit_bytes_haproxy", f"the same behind HAProxy alone (serve.py --no-assets: its gzip, "
                    f"static files and media cached; the home page: {home['proxy']:.2f} MB; largest: "
                    f"{largest('proxy')})", mb["proxy"], "MB", "bare", mb["bare"]))
    out.append(_row("first_visit_bytes", f"the same as serve.py --https serves a class (nginx sending the front "
                    f"end compressed once: brotli; the home page: {home['class']:.2f} MB; largest: "
                    f"{largest('class')})", mb["class"], "MB", "bare", mb["bare"], FIRST_VISIT_MB, "MB"))
    gzipped = results["class"].gzip_only
    out.append(_row("first_visit_bytes_gzip", f"the same, a browser that takes only gzip (as Chromium over plain "
                    f"HTTP on a LAN; median of {len(gzipped)})", Visits.median(gzipped, "bytes") / 1e6, "MB",
                    "bare", mb["bare"]))
    for name, label in (("bare", "bare streamlit run app.py"), ("class", "the class's two replicas")):
        cpu = Visits.mean(results[name].fresh, "cpu")
        alone = (f"; HAProxy alone: {Visits.mean(results['proxy'].fresh, 'cpu') * 1000:.0f} ms"
                 if name == "class" else "")
        out.append(_row("first_visit_cpu" + ("_bare" if name == "bare" else ""),
                        f"app-server CPU for that first visit, {label} (mean of {n}; until the home page was "
                        f"drawn: {Visits.mean(results[name].fresh, 'home_cpu') * 1000:.0f} ms{alone})", cpu * 1000,
                        "ms", base, forward * 1000, *((FIRST_VISIT_CPU_MS, "ms") if name == "class" else ())))
    for name, label in (("bare", "bare"), ("class", "the class's replicas")):
        warm = results[name].warm
        out.append(_row("warm_session_cpu" + ("_bare" if name == "bare" else ""),
                        f"app-server CPU for a new session (second tab, browser cache full: home then Predict, "
                        f"media included), {label} (mean of {n}; {Visits.median(warm, 'bytes') / 1e3:.0f} kB "
                        f"on the wire)", Visits.mean(warm, "cpu") * 1000, "ms", base, forward * 1000,
                        ratio_target=WARM_SESSION_RATIO))
    out.append(_row("first_visit_proxy_cpu", f"the proxies' own CPU for a first visit of the class (HAProxy's TLS "
                    f"and cache, nginx; mean; HAProxy alone compressing: "
                    f"{Visits.mean(results['proxy'].fresh, 'proxy_cpu') * 1000:.0f} ms)",
                    Visits.mean(results["class"].fresh, "proxy_cpu") * 1000, "ms", base, forward * 1000))
    elapsed, one, app_cpu, proxy_cpu, idle = join
    out.append(_row("class_joins", f"{CLASS_SIZE} students (fresh profiles: {CLASS_SIZE} contexts of one Chromium "
                    f"on the same machine) open the home page at once (serve.py --https): until the last sees it",
                    elapsed, "s", "one student alone", one))
    out.append(_row("class_joins_cpu", f"app-server CPU while those {CLASS_SIZE} join (over as long right after, "
                    f"while they close: {idle:.2f} s; HAProxy and nginx: {proxy_cpu:.2f} s)",
                    app_cpu, "s", f"{CLASS_SIZE} × bare forward", CLASS_SIZE * forward))
    return out
