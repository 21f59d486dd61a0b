"""What the browser tests share: the Streamlit server, a Chromium page offline, and the waits.

A planner's click that lands while the app re-runs is lost; so is a file chosen while the page is
redrawn. The helpers here wait for the app's run to end (:func:`idle`) and for what the user would
see (the file on the server, the message a button leads to) and repeat the action otherwise, so
that a busy CI machine does not fail a test that a slow user would pass.

Debian's /usr/bin/chromium is driven by Playwright; every request that does not go to the local
server is recorded and blocked, as on an intranet without internet. One app server and one
Chromium serve every browser test of a test process (an xdist worker); each test has a browser
context, and so an app session, of its own.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

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
#: Every request outside localhost goes to a proxy that does not exist and fails, as on an intranet
#: (Chromium never sends loopback requests to a proxy). Not Playwright's request routing, which
#: turns the browser's HTTP cache off (microsoft/playwright#7220) and passes each of a page's
#: hundred requests through the test process: an F5 or a remounted map frame would fetch and
#: compile Streamlit's scripts again.
OFFLINE = ["--proxy-server=http://127.0.0.1:9"]
#: What Chromium says of a request so blocked (a console error of the page).
BLOCKED = "net::ERR_PROXY_CONNECTION_FAILED"

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is absent (apt-get install chromium); browser test skipped", allow_module_level=True
    )
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


#: What one test process (one xdist worker) shares between its browser tests: the app server
#: and Chromium, each started by the first test that needs it and stopped when the run ends.
_SHARED: dict = {}


@pytest.fixture(scope="module")
def server(request, sample_dir):
    """The address of ``streamlit run app.py`` on a free localhost port. One server per test
    process, shared by every browser test module (each test opens its own session in a new
    browser context): the sample's partition, in Streamlit's resource cache, is computed once,
    not once per module. A server that died is started anew."""
    if not _SHARED.get("cleanup"):  # once per process: close both at the end of the run
        request.config.add_cleanup(_stop_shared)
        _SHARED["cleanup"] = True
    shared = _SHARED.get("server")
    if shared is None or shared[1].poll() is not None:
        if shared is not None:
            shutil.rmtree(shared[3], ignore_errors=True)
        _SHARED["server"] = shared = _start_server()
    return shared[0]


def _start_server() -> tuple[str, subprocess.Popen, IO[str], str]:
    port = _free_port()
    (ROOT / "out").mkdir(exist_ok=True)
    log = open(ROOT / "out" / f"streamlit_{port}.log", "w")
    # a temporary folder of the server's own, for the uploads it stages and the proposals it
    # saves: tests running beside the browser tests check the system's temporary folder for
    # leftovers, and the test process's plan store is theirs
    tmp = tempfile.mkdtemp(prefix="gridplan-browser-server-")
    env = dict(
        os.environ,
        GRIDPLAN_TILES="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        TMPDIR=tmp,
        GRIDPLAN_DATA=os.path.join(tmp, "plan_store"),
    )
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
            return url, proc, log, tmp
        except (OSError, http.client.HTTPException):  # not listening yet (URLError is an OSError)
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                log.close()
                shutil.rmtree(tmp, ignore_errors=True)
                pytest.fail(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)


def _browser():
    """The test process's headless Chromium, launched on first use (again if it went away)."""
    browser = _SHARED.get("browser")
    if browser is None or not browser.is_connected():
        from playwright.sync_api import sync_playwright

        if "playwright" not in _SHARED:
            _SHARED["playwright"] = sync_playwright().start()
        browser = _SHARED["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=ARGS + OFFLINE, headless=True
        )
        _SHARED["browser"] = browser
    return browser


def _stop_shared() -> None:
    """Close the shared Chromium and stop the shared server (at the end of the run)."""
    if "playwright" in _SHARED:
        browser = _SHARED.pop("browser", None)
        if browser is not None and browser.is_connected():
            browser.close()
        _SHARED.pop("playwright").stop()
    started = _SHARED.pop("server", None)
    if started is not None:
        _, proc, log, tmp = started
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    _SHARED.clear()


@functools.cache
def sample_partition():
    """The sample's layers and grids as the app makes them (:func:`gridplan.workflows.plan_grids`
    on :func:`gridplan.datasets.sample.load_sample`), computed once per test process: ``(layers,
    result)``; read them, never change them."""
    from gridplan.datasets.sample import load_sample
    from gridplan.workflows import plan_grids

    layers = load_sample()
    return layers, plan_grids(layers, n_jobs=1)


def sample_plan():
    """A new editable plan of the sample's grids (:func:`sample_partition`)."""
    from gridplan.plan.model import Plan

    layers, result = sample_partition()
    return Plan.from_partition(result, layers["households"], layers["communities"])


@pytest.fixture(scope="module")
def choice(sample_dir):
    """A grid, one of its units and a grid it can move to, from the same partition as the app."""
    import shapely

    plan = sample_plan()
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
    blocked (:data:`OFFLINE`); console errors go to ``errors``. The page has a browser context of
    its own (no cookies, storage, cache or session shared with another test's page), closed when
    the block ends; Chromium itself is the test process's (:func:`_browser`)."""
    context = _browser().new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=downloads)

    def record(request):
        url = request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(
            ("http://localhost", "ws://localhost")
        ):
            outside.append(url)

    if outside is not None:
        context.on("request", record)
    context.add_init_script(_WATCH_RUNS)
    page = context.new_page()
    if errors is not None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()


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


#: How long after the planner's last input (a click, a key, a chosen file) the app is taken to be
#: idle when no run has started since: the input's run reaches the page in about 0.1-0.3 s on a
#: loaded 2-core machine (Streamlit's status widget shows only runs longer than 0.5 s, so it
#: cannot tell).
GRACE_MS = 500

#: Put in every page and frame before its scripts: the time of the planner's last input (the map
#: and the components are same-origin frames: theirs counts for the page) and of the end of the
#: app's last run, which Streamlit writes on its root as ``data-test-script-state``.
_WATCH_RUNS = """(() => {
  const mark = () => { try { window.top.__gp_input = Date.now(); } catch (e) {} };
  for (const type of ["pointerdown", "keydown", "input", "change"]) {
    window.addEventListener(type, mark, true);
  }
  if (window !== window.top) return;
  window.__gp_input = 0;
  window.__gp_done = 0;
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) { setTimeout(watch, 20); return; }
    new MutationObserver(() => {
      if (app.getAttribute("data-test-script-state") === "notRunning") window.__gp_done = Date.now();
    }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
  };
  watch();
})();"""

_IDLE = """(grace) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  return window.__gp_done > window.__gp_input || Date.now() - window.__gp_input > grace;
}"""


def idle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the app has finished its run: Streamlit says no script runs, and a run has
    ended since the planner's last input (or none began within :data:`GRACE_MS` of it)."""
    page.wait_for_function(_IDLE, arg=GRACE_MS, timeout=timeout_ms, polling=50)


def inputs_now(page) -> None:
    """Count this moment as the planner's input (what the app answers comes later than the
    input event: a file's run once the file is on the server)."""
    page.evaluate("() => { window.__gp_input = Date.now(); }")


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
    labelled ``label``, and wait until they are on the server and the app has run with them."""
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    items = files if isinstance(files, list) else [files]
    name = Path(items[0]["name"] if isinstance(items[0], dict) else items[0]).name
    until(
        page,
        lambda: box.locator('input[type="file"]').set_input_files(files),
        # Streamlit's file chip: "Cancel upload of <name>" while it uploads, "Remove <name>" once
        # the server has it (and the app is asked to run again); the name alone shows at once
        box.get_by_role("button", name=f"Remove {name}", exact=True),
        what=f"uploading {name} as {label}",
    )
    inputs_now(page)
    idle(page)


def choose(page, label, option):
    """Pick ``option`` in the Streamlit select box labelled ``label``."""
    choose_in(page, page.locator('[data-testid="stSelectbox"]').filter(has_text=label), option)


def choose_in(page, box, option):
    """Pick ``option`` in the Streamlit select box ``box`` (a locator), trying again when the
    list did not open or closed under the click because the app re-ran."""
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(4):
        idle(page)
        if box.locator("input").input_value() == option:
            return
        # focused first: a click that moves the focus into the box from a radio button (as
        # after choosing the data source) only focuses it, and the list stays closed
        box.locator("input").focus()
        box.locator("input").click()
        try:
            item.wait_for(state="visible", timeout=1_500)  # the list opens at once, if it does
        except playwright.TimeoutError:
            continue  # the click landed while the box was redrawn: click again
        try:
            item.click(timeout=10_000)
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
