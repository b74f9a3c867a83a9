"""Shell timings in a real browser (Playwright + Debian's chromium).

Starts the platform as `make up` does (`webos up` in a temp state dir on a
free port range, `_support.stack`), then measures, median of 10 each:

* sign-in → dashboard rendered: from clicking "Sign in" to the dashboard's
  welcome line being visible (goal, issue 17: ≤ 600 ms); baselines measured
  in the same run: auth's `POST /api/auth/login` alone (password hashing is
  most of a sign-in) and loading the sign-in page itself;
* Ctrl+K → palette ready to type: in the page, from the key's `keydown` to
  the palette's input taking the focus (goal ≤ 50 ms); the baseline is the
  same dialog opened by the server, as it was before the browser opened it
  itself: one NiceGUI round trip (`emitEvent` → the server opens the dialog
  → Quasar focuses the input), timed the same way on the same page;
* the first page of a 100,000-row collection in the grid: 100,000 tasks of
  the admin seeded straight into MongoDB as the repository writes them
  (`_support.stack.seed`; one is read back through the API), then, after a
  warm-up, from the navigation to `/m/tasks` (the table) until the grid
  shows rows and the pager the total, in the page's own clock (goal ≤
  300 ms). Baseline: the list API's own first page as the grid asks for it
  (`GET /api/tasks/tasks?skip=0&limit=25&meta=total` through the gateway,
  timed from the client); beside it the same page without the count and
  the count alone in MongoDB, to show where the time goes.

Usage: .venv/bin/python bench/shell.py [--runs 10] [--rows 100000]
       [--url http://127.0.0.1:8700 --mongo mongodb://127.0.0.1:PORT/?directConnection=true]
(with `--url` and no `--mongo`, the grid is not measured). Loopback only;
bounded (< 3 min on this machine)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.stack import ADMIN, mongo_of, seed, sign_in
from _support.stack import platform as stack_platform

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GOALS = {"dashboard": 0.600, "palette": 0.050, "grid": 0.300}  # issue 17
LIST = "/api/tasks/tasks"


@contextmanager
def platform(url: str | None, mongo: str | None) -> Iterator[tuple[str, MongoClient[Any] | None]]:
    """The gateway's URL and the stack's MongoDB (None: an outside platform given without `--mongo`)."""
    if url:
        yield url.rstrip("/"), MongoClient(mongo, tz_aware=True) if mongo else None
        return
    with tempfile.TemporaryDirectory(prefix="bench-shell-") as tmp, \
            stack_platform(Path(tmp) / "state") as (base, plan):
        yield base, mongo_of(plan)


def timed(action: Callable[[], Any], done: Callable[[], Any]) -> float:
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
    with httpx.Client(base_url=url, timeout=30) as client:
        def once() -> None:
            client.post("/api/auth/login", json={"login": ADMIN[0], "password": ADMIN[1]}).raise_for_status()

        return [timed(once, lambda: None) for _ in range(runs)]


def seed_admin(url: str, mongo: MongoClient[Any], rows: int) -> tuple[str, int]:
    """The admin's token and the list's total once `rows` tasks of theirs are in MongoDB (seeded
    as the repository writes them); the newest is read back through the API, or the bench stops."""
    with httpx.Client(base_url=url, timeout=60) as client:
        token = sign_in(client, *ADMIN)
        headers = {"Authorization": f"Bearer {token}"}
        admin = str(client.get("/api/auth/me", headers=headers).raise_for_status().json()["id"])
        started = time.perf_counter()
        seed(mongo, [(admin, token)], rows)
        print(f"seeded {rows:,} tasks of the admin in {time.perf_counter() - started:.1f}s")
        page = client.get(LIST, params={"limit": 1, "meta": "total"}, headers=headers).raise_for_status().json()
        newest = page["items"][0]
        one = client.get(f"{LIST}/{newest['id']}", headers=headers).raise_for_status().json()
        seeded = newest["title"].startswith("task ") and newest["owner_id"] == admin and one["version"] == 1
        if not seeded or page["total"] < rows:
            raise SystemExit(f"the seeded rows do not come back through the API: {page}")
        return token, int(page["total"])


def api_page_runs(url: str, token: str, params: dict[str, Any], runs: int) -> list[float]:
    """The list's first page through the gateway, as the grid asks for it; the first call is dropped."""
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        return [timed(lambda: client.get(LIST, params=params).raise_for_status(), lambda: None)
                for _ in range(runs + 1)][1:]


def count_runs(mongo: MongoClient[Any], runs: int) -> list[float]:
    """The admin's count (every live row) alone, in MongoDB: what `meta=total` costs at most."""
    items = mongo["webos"]["tasks_items"]
    return [timed(lambda: items.count_documents({"deleted_at": None}), lambda: None) for _ in range(runs)]


_GRID_READY = """(total) => {
  const rows = document.querySelectorAll('.ag-center-cols-container .ag-row').length;
  const pager = document.querySelector('[data-testid="explorer-page"]');
  return rows > 0 && pager !== null && pager.textContent.includes(`· ${total} rows`) && performance.now();
}"""


_PHASES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return [nav.responseStart, nav.responseEnd, nav.domContentLoadedEventEnd, nav.loadEventEnd];
}"""
PHASES = ("HTML's first byte", "HTML's last byte", "DOMContentLoaded", "load")


def grid_runs(page: Page, url: str, total: int, runs: int) -> tuple[list[float], list[float], list[list[float]]]:
    """Seconds from the navigation to `/m/tasks` until the grid shows rows and the pager the total:
    in the page's clock (from its navigation start) and as this process sees it, and when the page's
    own phases (`PHASES`) ended, in the page's clock; the first run is dropped."""
    in_page, wall, phases = [], [], []
    for _ in range(runs + 1):
        started = time.perf_counter()
        page.goto(url + "/m/tasks", wait_until="commit")
        ready = page.wait_for_function(_GRID_READY, arg=total, polling="raf", timeout=30_000)
        wall.append(time.perf_counter() - started)
        in_page.append(float(ready.json_value()) / 1000)
        phases.append([float(t) / 1000 for t in page.evaluate(_PHASES)])
    return in_page[1:], wall[1:], phases[1:]


def report(name: str, values: list[float], goal: float, baseline_name: str, baseline: list[float]) -> None:
    median, base = statistics.median(values), statistics.median(baseline)
    verdict = "met" if median <= goal else "NOT met"
    print(f"{name}: median {median * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}), "
          f"goal {goal * 1000:.0f} ms {verdict} ({median / goal:.2f}x goal); "
          f"baseline {baseline_name} {base * 1000:.0f} ms -> {median / base:.2f}x baseline")


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def signed_in(new_page: Callable[[], Page], url: str) -> Page:
    page = new_page()
    page.goto(url + "/login")
    page.get_by_test_id("login-name").fill(ADMIN[0])
    page.get_by_test_id("login-password").fill(ADMIN[1])
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("welcome").wait_for()
    return page


def grid_bench(page: Page, url: str, mongo: MongoClient[Any], rows: int, runs: int) -> None:
    token, total = seed_admin(url, mongo, rows)
    first = {"skip": 0, "limit": 25, "meta": "total"}  # what the grid asks for (`DataExplorer.load`)
    api = api_page_runs(url, token, first, runs)
    no_count = api_page_runs(url, token, {"skip": 0, "limit": 25}, runs)
    counts = count_runs(mongo, runs)
    in_page, wall, phases = grid_runs(page, url, total, runs)
    report(f"/m/tasks -> grid's first page ({total:,} rows)", in_page, GOALS["grid"],
           "GET ?limit=25&meta=total", api)
    print(f"  (as this process sees it: {ms(wall)}; the API page without meta=total {ms(no_count)}; "
          f"the count alone in MongoDB {ms(counts)})")
    print("  (in the page, medians: " + ", ".join(f"{name} {ms([run[i] for run in phases])}"
                                               for i, name in enumerate(PHASES)) + f", rows {ms(in_page)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a platform already up (default: start one with webos up)")
    parser.add_argument("--mongo", help="with --url: its MongoDB, to seed the grid's rows (else no grid)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args()
    with platform(options.url, options.mongo) as (url, mongo), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def new_page() -> Page:
            return browser.new_context(viewport={"width": 1360, "height": 860}).new_page()

        api_login = api_login_runs(url, options.runs)
        login, dashboard = sign_in_runs(new_page, url, options.runs)
        page = signed_in(new_page, url)
        palette, roundtrip = palette_runs(page, options.runs)
        print(f"runs: {options.runs} each, median reported; load average {os.getloadavg()[0]:.1f}")
        report("sign-in -> dashboard rendered", dashboard, GOALS["dashboard"], "POST /api/auth/login alone",
               api_login)
        print(f"  (sign-in page load, cold browser context: median {ms(login)})")
        report("Ctrl+K -> palette input focused", palette, GOALS["palette"], "opened by the server (one round trip)",
               roundtrip)
        if mongo is None:
            print("grid: not measured (give --mongo with --url)")
        else:
            grid_bench(page, url, mongo, options.rows, options.runs)
        browser.close()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
