"""How fast the planner's web map answers in a real browser (Debian's Chromium via Playwright).

Starts ``streamlit run app.py`` on a free localhost port (requests outside localhost are
blocked, as on an intranet; no basemap; the browser keeps its HTTP cache across tabs, as a
planner's does), then measures on the sample district:

- cold open: the first session after the server start, until the grid map has drawn; once with
  an empty disk cache (the first start of a new version, which partitions the sample), then
  after a restart (every later start, which reads it);
- new session: another tab on the warm server, until the map has drawn;
- select: a click on a grid on the map, from the mouse click until its panel's heading shows
  (and the same for a grid chosen in the select box);
- move: the 移动 button, until the outcome of the move shows;
- undo: the 撤销 button, until "已撤销上一步" shows;
each until the app's run has ended too (no status widget).

``--households 500000`` measures on a generated district of that size instead (planned, saved as a
proposal in a temporary plan store, and opened by the app from the address, as after F5).

Usage: ``python bench/app_browser.py [--root /tmp/app_before] [--repeat 5] [--households N]``; ``--root`` runs
another checkout's ``app.py`` (with that checkout first on ``PYTHONPATH``), for a before/after
comparison. Prints one line: ``app: cold open X s; new session Y s; select Z s; move M s; undo U s``
(medians) and the load average.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser helpers and the city generator
from _browser import ARGS, CHROMIUM, click_map, map_frame, map_point  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _start(root: Path, log) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, GRIDPLAN_TILES="none", PYTHONPATH=str(root))
    cmd = [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.address", "localhost"]
    # no file watcher: other work in the checkout would make it rescan the tree during the runs
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://localhost:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2).read()
            return proc, url
        except (OSError, http.client.HTTPException):
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit(f"streamlit did not start; see {log.name}") from None
            time.sleep(0.2)


def _sample_plan():
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    return Plan.from_partition(plan_grids(s, n_jobs=1), s["households"], s["communities"])


def _city_store(households: int, folder: Path) -> tuple[object, str]:
    """A generated district of ``households`` (tests/generators/city.py), planned and saved as
    a proposal in a plan store under ``folder``: the app opens it from the address, as after F5
    (an upload of half a million points through the browser would measure the upload)."""
    from generators.city import load_city

    from gridplan.plan.model import Plan
    from gridplan.plan.store import PlanStore
    from gridplan.workflows import plan_grids

    t0 = time.perf_counter()
    layers = load_city(households)
    result = plan_grids(layers, n_jobs=os.cpu_count())
    plan = Plan.from_partition(result, layers["households"], layers["communities"])
    name = f"bench {households}"
    PlanStore(folder).save(name, plan)
    print(
        f"  district of {households:,} households: {len(plan.grids):,} grids, planned and saved in "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return plan, name


def _choices(plan, n: int) -> tuple[list[tuple[str, float, float]], dict]:
    """``n`` grids to click (id, lat, lon) and one movable unit (grid, unit, target)."""
    import shapely

    g = plan.grids
    pts = shapely.point_on_surface(g.geometry.values)
    step = max(1, len(g) // n)
    grids = [(g["grid_id"].iloc[i], pts[i].y, pts[i].x) for i in range(0, len(g), step)][:n]
    units = plan.units
    # a move that keeps both grids in the band: the app makes it at once (no 仍然执行 asked)
    for uid, gid in zip(units["unit_id"], units["grid_id"]):
        for to, preview in plan.move_targets(uid).items():
            if preview.outside:
                continue
            gp = shapely.point_on_surface(g.set_index("grid_id").geometry[gid])
            up = shapely.point_on_surface(units.set_index("unit_id").geometry[uid])
            return grids, {"grid": gid, "to": to, "grid_pt": (gp.y, gp.x), "unit_pt": (up.y, up.x)}
    raise SystemExit("no movable unit in the sample")


def _map_frame(page):
    """The live map iframe, once its grid polygons have drawn (looked for every 50 ms)."""
    return map_frame(page, timeout=120_000, poll_ms=50)


def _idle(page) -> None:
    page.wait_for_timeout(200)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=120_000)


def _click_map(page, lat: float, lon: float, shift: int = 0) -> None:
    # a grid the last selection scrolled out of view is panned to first, as the planner would
    # (a city's grids are dots at the first view: a selection zooms)
    click_map(page, lat, lon, shift=shift, pan=True, poll_ms=50)


def _choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    _idle(page)


def _timed(page, act, locator, timeout: float = 60.0) -> float:
    """Seconds from ``act`` until ``locator`` shows and the app's run has ended (Streamlit
    streams a run's elements, so the answer can show before the map under it is sent).

    Looked for every 10 ms: Playwright's own wait looks again after 20, 50, 100, 100 ms and then
    every 500 ms, so that an answer shown at 0.28 s would be read at about 0.8 s."""
    status = page.locator('[data-testid="stStatusWidget"]')
    t0 = time.perf_counter()
    act()
    _until(page, locator.is_visible, timeout)
    _until(page, lambda: not status.is_visible(), timeout)
    return time.perf_counter() - t0


def _until(page, check, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise SystemExit(f"no answer in {timeout} s")
        page.wait_for_timeout(10)


def _open(context, url: str) -> tuple[object, float]:
    page = context.new_page()
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(url)
    _map_frame(page)
    return page, time.perf_counter() - t0


#: Every request outside localhost goes to a proxy that does not exist, so it fails, as on an
#: intranet (Chromium never sends loopback requests to a proxy). Not Playwright's request
#: routing: routing turns the browser's HTTP cache off (microsoft/playwright#7220), so that each
#: new tab fetched and compiled Streamlit's scripts again, which a planner's browser, holding
#: them from the first tab (served as immutable), does not.
OFFLINE = ["--proxy-server=http://127.0.0.1:9"]


def first_open(url: str) -> float:
    """The first session's time to the drawn map, in a browser of its own (seconds)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + OFFLINE, headless=True)
        _, took = _open(browser.new_context(viewport={"width": 1500, "height": 1100}), url)
        browser.close()
    return took


def measure(url: str, repeat: int, grids: list, move: dict) -> dict[str, list[float]]:
    """Times of the five interactions (seconds), ``repeat`` of each (one cold open)."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {k: [] for k in ("cold", "session", "select", "box", "move", "undo")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + OFFLINE, headless=True)
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        page, cold = _open(context, url)
        out["cold"].append(cold)
        print("  cold", cold, flush=True)
        for _ in range(repeat):
            other, s = _open(context, url)
            out["session"].append(s)
            print("  session", s, flush=True)
            other.close()
        _idle(page)
        for gid, lat, lon in grids:
            head = page.get_by_role("heading", name=f"网格 {gid}")
            # timed from the click itself: finding the map's frame and the point is the harness's
            x, y = map_point(page, lat, lon, pan=True, poll_ms=50)
            out["select"].append(_timed(page, lambda x=x, y=y: page.mouse.click(x, y), head))
            _idle(page)
            print("  select", out["select"][-1], flush=True)
        for gid, _, _ in grids[-2::-1] + grids[-1:]:  # each a change of the selection
            field = page.locator('[data-testid="stSelectbox"]').filter(has_text="选择网格").locator("input")
            field.click()
            page.keyboard.type(gid)  # the list is virtual: filter it to the grid
            option = page.get_by_role("option", name=gid, exact=True)
            option.wait_for()
            head = page.get_by_role("heading", name=f"网格 {gid}")
            out["box"].append(_timed(page, option.click, head))
            _idle(page)
            print("  box", out["box"][-1], flush=True)
        head = page.get_by_role("heading", name=f"网格 {move['grid']}")
        _retry(page, lambda: _click_map(page, *move["grid_pt"]), head)
        target_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="移到网格")
        moved = page.get_by_text(re.compile(rf"^已将 .* 移到 {re.escape(move['to'])}$")).first
        undone = page.get_by_text("已撤销上一步", exact=True).first
        clicks = iter(range(10_000))
        for _ in range(repeat):
            # a second click in the selected grid selects the estate under it (a pixel apart
            # each time: the map reports a click at the same point as no new click)
            _retry(page, lambda: _click_map(page, *move["unit_pt"], shift=next(clicks) % 3 - 1), target_box)
            if target_box.locator("input").input_value() != move["to"]:
                _choose(page, "移到网格", move["to"])
            button = page.get_by_role("button", name="移动", exact=True)
            out["move"].append(_timed(page, button.click, moved))
            _idle(page)
            undo = page.get_by_role("button", name="撤销", exact=True)
            out["undo"].append(_timed(page, undo.click, undone))
            _idle(page)
            print("  move/undo", out["move"][-1], out["undo"][-1], flush=True)
        browser.close()
    return out


def _retry(page, act, locator, tries: int = 4) -> None:
    """``act`` until ``locator`` shows: a click that lands while the app re-runs is lost."""
    from playwright.sync_api import TimeoutError as playwright_timeout

    for _ in range(tries):
        _idle(page)
        act()
        try:
            locator.wait_for(state="visible", timeout=20_000)
            return
        except playwright_timeout:
            continue
    raise SystemExit(f"no {locator} after {tries} tries")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py is run")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--households",
        type=int,
        default=0,
        help="a generated district of this many households (saved as a proposal) instead of the sample",
    )
    args = ap.parse_args(argv)
    (ROOT / "out").mkdir(exist_ok=True)
    store = Path(tempfile.mkdtemp(prefix="gridplan_bench_app_"))
    os.environ["GRIDPLAN_DATA"] = str(store)  # the app server takes it at start
    os.environ.pop("GRIDPLAN_DB", None)
    query = ""
    if args.households:
        plan, name = _city_store(args.households, store)
        query = "?" + urllib.parse.urlencode({"proposal": name})
    else:
        plan = _sample_plan()
    grids, move = _choices(plan, args.repeat)
    # an empty disk cache (gridplan.app.diskcache): the first start of a new version computes
    # the sample's partition; every later start reads it
    os.environ["GRIDPLAN_CACHE"] = str(store / "cache")
    with open(ROOT / "out" / "bench_app_browser.log", "w") as log:
        try:
            proc, url = _start(args.root.resolve(), log)
            try:
                first = first_open(url + query)
                print("  cold, empty cache", first, flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
            proc, url = _start(args.root.resolve(), log)
            try:
                out = measure(url + query, args.repeat, grids, move)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        finally:
            shutil.rmtree(store, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in out.items()}
    print(
        f"app: cold open {med['cold']:.2f} s (first start of a version, empty cache: {first:.2f} s); "
        f"new session {med['session']:.2f} s; select "
        f"{med['select']:.2f} s (in the box {med['box']:.2f} s); move {med['move']:.2f} s; undo {med['undo']:.2f} s "
        f"(medians of {args.repeat}; {args.households or 'sample'} households; {args.root.resolve()}; "
        f"load {os.getloadavg()[0]:.2f})"
    )
    print("  all: " + "; ".join(f"{k} " + " ".join(f"{x:.2f}" for x in v) for k, v in out.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
