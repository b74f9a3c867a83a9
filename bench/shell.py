"""Shell timings in a real browser (Playwright + Debian's chromium).

Starts the platform as `make up` does (`webos up` in a temp state dir on a
free port range), then measures, median of 10 each:

* sign-in → dashboard rendered: from clicking "Sign in" to the dashboard's
  welcome line being visible (goal ≤ 1.5 s); baselines measured in the
  same run: auth's `POST /api/auth/login` alone (password hashing is most
  of a sign-in) and loading the sign-in page itself;
* Ctrl+K → palette ready to type: in the page, from the key's `keydown` to
  the palette's input taking the focus (goal ≤ 50 ms); the baseline is the
  same dialog opened by the server, as it was before the browser opened it
  itself: one NiceGUI round trip (`emitEvent` → the server opens the dialog
  → Quasar focuses the input), timed the same way on the same page.

Usage: .venv/bin/python bench/shell.py [--url http://127.0.0.1:8700] [--runs 10]
Loopback only; bounded (< 2 min on this machine)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright

from webos_common.infra.process import free_port_range

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WEBOS = [sys.executable, "-m", "webos_cli.main"]
ADMIN = ("admin", os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme"))




@contextmanager
def platform(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="bench-shell-") as tmp:
        args = ["--state-dir", f"{tmp}/state", "--base-port", str(free_port_range())]
        started = time.perf_counter()
        up = subprocess.run([*WEBOS, "up", *args, "--timeout", "90"], capture_output=True, text=True, timeout=150)
        if up.returncode != 0:
            subprocess.run([*WEBOS, "down", *args], capture_output=True, timeout=120)
            raise SystemExit(f"webos up failed:\n{up.stdout}\n{up.stderr}")
        print(f"platform up in {time.perf_counter() - started:.1f}s")
        try:
            yield f"http://127.0.0.1:{args[-1]}"
        finally:
            subprocess.run([*WEBOS, "down", *args], capture_output=True, timeout=120)


def timed(action: Callable[[], None], done: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    done()
    return time.perf_counter() - start


def sign_in_runs(new_page: Callable[[], Page], url: str, runs: int) -> tuple[list[float], list[float]]:
    login, dashboard = [], []
    for _ in range(runs + 1):  # the first run warms caches and is dropped
        page = new_page()
        login.append(timed(lambda p=page: p.goto(url + "/login"),
                           lambda p=page: p.get_by_test_id("login-submit").wait_for()))
        page.get_by_test_id("login-name").fill(ADMIN[0])
        page.get_by_test_id("login-password").fill(ADMIN[1])
        dashboard.append(timed(lambda p=page: p.get_by_test_id("login-submit").click(),
                               lambda p=page: p.get_by_test_id("welcome").wait_for()))
        page.context.close()
    return login[1:], dashboard[1:]


_PROBE_JS = """() => {
  window.__probe = {};
  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey && e.key === 'k') window.__probe.start = performance.now();
  }, true);
  document.addEventListener('focusin', (e) => {
    if (e.target.matches('input[data-testid="palette-input"]')) window.__probe.ready = performance.now();
  }, true);
}"""


def _ready_after(page: Page, start: Callable[[], None]) -> float:
    """Seconds from the probe's start to the palette's input having the focus, then closed again."""
    page.evaluate("() => { window.__probe = {}; }")
    start()
    page.wait_for_function("() => window.__probe.ready !== undefined", timeout=10_000)
    took = page.evaluate("() => window.__probe.ready - window.__probe.start") / 1000
    page.keyboard.press("Escape")
    page.get_by_test_id("palette-input").wait_for(state="hidden")
    page.wait_for_timeout(300)
    return float(took)


def palette_runs(page: Page, runs: int) -> tuple[list[float], list[float]]:
    page.evaluate(_PROBE_JS)
    palette, roundtrip = [], []
    for _ in range(runs + 1):
        palette.append(_ready_after(page, lambda: page.keyboard.press("Control+k")))
        # Baseline: the server opens it (what Ctrl+K did before): one NiceGUI round trip.
        roundtrip.append(_ready_after(page, lambda: page.evaluate(
            "() => { window.__probe.start = performance.now(); emitEvent('webos_palette'); }")))
    return palette[1:], roundtrip[1:]


def api_login_runs(url: str, runs: int) -> list[float]:
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:
        def once() -> None:
            client.post("/api/auth/login", json={"login": ADMIN[0], "password": ADMIN[1]}).raise_for_status()

        return [timed(once, lambda: None) for _ in range(runs)]


def report(name: str, values: list[float], goal: float, baseline_name: str, baseline: list[float]) -> None:
    median, base = statistics.median(values), statistics.median(baseline)
    print(f"{name}: median {median * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}), "
          f"goal {goal * 1000:.0f} ms -> {median / goal:.2f}x goal; "
          f"baseline {baseline_name} {base * 1000:.0f} ms -> {median / base:.2f}x baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a platform already up (default: start one with webos up)")
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    with platform(options.url) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def new_page() -> Page:
            return browser.new_context(viewport={"width": 1360, "height": 860}).new_page()

        api_login = api_login_runs(url, options.runs)
        login, dashboard = sign_in_runs(new_page, url, options.runs)
        page = new_page()
        page.goto(url + "/login")
        page.get_by_test_id("login-name").fill(ADMIN[0])
        page.get_by_test_id("login-password").fill(ADMIN[1])
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("welcome").wait_for()
        palette, roundtrip = palette_runs(page, options.runs)
        browser.close()
    print(f"runs: {options.runs} each, median reported; load average {os.getloadavg()[0]:.1f}")
    report("sign-in -> dashboard rendered", dashboard, 1.5, "POST /api/auth/login alone", api_login)
    print(f"  (sign-in page load, cold browser context: median {statistics.median(login) * 1000:.0f} ms)")
    report("Ctrl+K -> palette input focused", palette, 0.050, "opened by the server (one round trip)", roundtrip)


if __name__ == "__main__":
    main()
