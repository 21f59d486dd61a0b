"""What the browser tests share: the Streamlit server, a Chromium page offline, and the waits.

A planner's click that lands while the app re-runs is lost; so is a file chosen while the page is
redrawn. The helpers here wait for what the user would see (the file's name in its uploader, the
message a button leads to) and repeat the action otherwise, so that a busy CI machine does not
fail a test that a slow user would pass.

Debian's /usr/bin/chromium is driven by Playwright; every request that does not go to the local
server is recorded and blocked, as on an intranet without internet.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gridplan.errors import GridplanError

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "out" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is absent (apt-get install chromium); browser test skipped", allow_module_level=True
    )
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_dir):
    """``streamlit run app.py`` on a free localhost port, for the test module."""
    port = _free_port()
    (ROOT / "out").mkdir(exist_ok=True)
    log = open(ROOT / "out" / f"streamlit_{port}.log", "w")
    env = dict(os.environ, GRIDPLAN_TILES="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "localhost",
            "--browser.gatherUsageStats",
            "false",
            # no file watcher: a file saved in the checkout during a test (other work) would make
            # Streamlit unload and re-import every gridplan module, and the session's plan would
            # raise errors of the old classes, which the re-imported pages no longer catch
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2).read()
            break
        except (OSError, http.client.HTTPException):  # not listening yet (URLError is an OSError)
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def choice(sample_dir):
    """A grid, one of its units and a grid it can move to, from the same partition as the app."""
    import shapely

    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    r = plan_grids(s, n_jobs=1)
    plan = Plan.from_partition(r, s["households"], s["communities"])
    units = plan.units.set_index("unit_id")
    for gid in plan.grids["grid_id"]:
        for uid in units.index[units["grid_id"] == gid]:
            for to in plan.unit_neighbour_grids(uid):
                try:
                    plan.move_unit(uid, to)
                except GridplanError:
                    continue
                plan.undo()
                g = plan.grids.set_index("grid_id")
                gp = shapely.point_on_surface(g.geometry[gid])
                up = shapely.point_on_surface(units.geometry[uid])
                return {
                    "grid": gid,
                    "unit": uid,
                    "to": to,
                    "n_grids": len(g),
                    "households": int(g.at[gid, "households"]),
                    "moved": int(units.at[uid, "households"]),
                    "grid_pt": (gp.y, gp.x),
                    "unit_pt": (up.y, up.x),
                }
    pytest.fail("no movable unit in the sample")


@contextmanager
def offline_page(
    server: str,
    *,
    outside: list[str] | None = None,
    errors: list[str] | None = None,
    timeout_ms: int = 60_000,
    downloads: bool = False,
) -> Iterator:
    """A Chromium page on ``server`` with every outside request recorded in ``outside`` and
    blocked; console errors go to ``errors``. The browser closes when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=downloads)

        def route(r):
            if r.request.url.startswith(("http://localhost", "ws://localhost")):
                r.continue_()
            else:
                if outside is not None:
                    outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        if errors is not None:
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            browser.close()


#: What the map frames' addresses carry: the grids page's own component, and streamlit-folium
#: (the coverage and sites maps).
MAP_FRAMES = ("gridplan.app.mapview.gridmap", "streamlit_folium")


def map_frame(page, timeout=90_000, poll_ms: int = 250):
    """The live map iframe, once its polygons have drawn (streamlit-folium remounts its frame:
    the old one is briefly still there). ``poll_ms``: how often to look."""
    deadline = time.time() + timeout / 1000
    while time.time() < deadline:
        frames = [f for f in page.frames if any(name in f.url for name in MAP_FRAMES)]
        for f in reversed(frames):
            try:
                if f.evaluate("() => !!window.map") and f.locator("path.leaflet-interactive").count() > 0:
                    return f
            except playwright.Error:  # a frame being torn down
                continue
        page.wait_for_timeout(poll_ms)  # lets Playwright process events (time.sleep would not)
    raise AssertionError("the map did not render")


def map_point(page, lat, lon, *, pan: bool = False, poll_ms: int = 250) -> tuple[float, float]:
    """Where on the page a latitude and longitude of the live map are (pixels). ``pan``: a point
    outside the view is panned to first, as the planner would."""
    for _ in range(50):  # the iframe may be swapped between finding it and reading it
        frame = map_frame(page, poll_ms=poll_ms)
        try:
            xy = frame.evaluate(
                "([lat, lon, pan]) => { const m = window.map;"
                " if (pan && !m.getBounds().pad(-0.1).contains([lat, lon])) {"
                " m.setView([lat, lon], m.getZoom(), {animate: false}); }"
                " const p = m.latLngToContainerPoint([lat, lon]);"
                " const r = m.getContainer().getBoundingClientRect();"
                " return [p.x + r.left, p.y + r.top]; }",
                [lat, lon, pan],
            )
            box = frame.frame_element().bounding_box()
        except playwright.Error:
            box = None
        if box is not None:
            return box["x"] + xy[0], box["y"] + xy[1]
        page.wait_for_timeout(poll_ms)
    raise AssertionError("the map iframe kept changing")


def click_map(page, lat, lon, *, shift: int = 0, pan: bool = False, poll_ms: int = 250):
    """Click the map at a latitude and longitude, as a planner's mouse would (``shift`` pixels
    right and down); see :func:`map_point`."""
    x, y = map_point(page, lat, lon, pan=pan, poll_ms=poll_ms)
    page.mouse.click(x + shift, y + shift)


def idle(page):
    """Wait until the app has finished its run (the status widget goes away)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=90_000)


def until(page, act, locator, *, tries: int = 4, timeout_ms: int = 15_000, what: str = "") -> None:
    """Do ``act()`` until ``locator`` shows: an action that lands while the app is still
    re-running (or a widget is being redrawn) is lost, as it would be for a user."""
    for _ in range(tries):
        idle(page)
        act()
        try:
            locator.wait_for(state="visible", timeout=timeout_ms)
            return
        except playwright.TimeoutError:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "until_timeout.png"), full_page=True)  # for the failure
            continue
    raise AssertionError(f"{what or act} did not show {locator} after {tries} tries")


def step(page, name: str, *, tries: int = 4, timeout_ms: int = 20_000) -> None:
    """Open the step called ``name`` in the sidebar (``"3 服务覆盖"``) and wait until its page has
    run: its address is the step's, and the app is idle. A click that lands while the app re-runs
    is lost, as for a user, so it is repeated; a page that shows the old step's content
    (Streamlit keeps the old elements until the new run replaces them) is never taken for the new one."""
    import re

    from gridplan.app.labels import text
    from gridplan.app.main import FIRST_STEP, STEPS

    path = next(
        (s for s in STEPS if text(f"step_{s}", "zh") == name or text(f"step_{s}", "en") == name), None
    )
    assert path is not None, f"no step is called {name!r}"
    # the first step is also the server's root address
    address = re.compile(rf"/({path})?(\?.*)?$" if path == FIRST_STEP else rf"/{path}(\?.*)?$")
    for _ in range(tries):
        idle(page)
        page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()
        try:
            page.wait_for_url(address, timeout=timeout_ms)
        except playwright.TimeoutError:
            continue
        idle(page)
        return
    raise AssertionError(f"the step {name!r} did not open after {tries} tries")


def click_until(page, lat, lon, locator, tries=4):
    """Click the map at ``lat, lon`` until ``locator`` shows."""
    until(
        page,
        lambda: click_map(page, lat, lon),
        locator,
        tries=tries,
        what=f"clicking the map at {lat}, {lon}",
    )


def upload(page, label: str, files) -> None:
    """Choose ``files`` (a path, or Playwright's name/mimeType/buffer payloads) in the uploader
    labelled ``label``, and wait until the uploader names them."""
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    items = files if isinstance(files, list) else [files]
    name = Path(items[0]["name"] if isinstance(items[0], dict) else items[0]).name
    until(
        page,
        lambda: box.locator('input[type="file"]').set_input_files(files),
        box.get_by_text(name).first,
        what=f"uploading {name} as {label}",
    )
    idle(page)


def choose(page, label, option):
    """Pick ``option`` in the Streamlit select box labelled ``label``."""
    choose_in(page, page.locator('[data-testid="stSelectbox"]').filter(has_text=label), option)


def choose_in(page, box, option):
    """Pick ``option`` in the Streamlit select box ``box`` (a locator), trying again when the
    list closed under the click because the app re-ran."""
    for _ in range(4):
        idle(page)
        if box.locator("input").input_value() == option:
            return
        box.locator("input").click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
        except playwright.Error:
            page.keyboard.press("Escape")
    idle(page)
    assert box.locator("input").input_value() == option, f"could not choose {option}"


def edit(page, button, done, *, timeout_ms: int = 90_000) -> None:
    """Click the edit ``button`` until ``done`` shows, answering "仍然执行" (do it anyway) once
    when the app asks first because the edit leaves a grid outside the household band."""
    anyway = page.get_by_role("button", name="仍然执行")
    until(page, button.click, done.or_(anyway).first, what=f"the edit {button}")
    if not done.is_visible():
        anyway.click()  # once: a second click while the edit runs would ask for it again
        try:
            done.wait_for(state="visible", timeout=timeout_ms)
        except playwright.TimeoutError:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "edit_failed.png"), full_page=True)
            raise
    idle(page)
