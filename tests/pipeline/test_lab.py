"""`make lab`: scripts/lab.sh starts a real JupyterLab on notebooks/, answering on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab", reason="jupyterlab is not installed: pip install -e '.[notebook]'")

ROOT = Path(__file__).resolve().parents[2]
#: Seconds JupyterLab may take to answer (it starts in ~3 s here).
START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def lab(tmp_path):
    """The `make lab` command (scripts/lab.sh) on a free port, stopped afterwards."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        # Server files (runtime info, workspaces, config) in tmp_path, not in the home folder.
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    }
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "lab.sh"), f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text(errors="replace")
            try:
                if _get(f"{base}/api")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text(errors="replace")
            time.sleep(0.5)
        yield base, token, tmp_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_make_lab_serves_the_notebooks_on_localhost(lab):
    base, token, tmp_path = lab
    status, body = _get(f"{base}/api?token={token}")
    assert status == 200 and "version" in json.loads(body)
    status, body = _get(f"{base}/lab?token={token}")
    assert status == 200 and b"JupyterLab" in body
    # The root is notebooks/, and the token is required to read it.
    status, body = _get(f"{base}/api/contents?token={token}")
    assert status == 200
    listed = {item["name"] for item in json.loads(body)["content"]}
    assert {"01_quickstart.ipynb", "04_scenarios.ipynb"} <= listed
    assert _get(f"{base}/api/contents")[0] == 403
    # Bound to the loopback address only (what the server itself records).
    (info,) = (tmp_path / "runtime").glob("jpserver-*.json")
    server = json.loads(info.read_text())
    assert server["hostname"] == "127.0.0.1"
    assert Path(server["root_dir"]).resolve() == ROOT / "notebooks"
    # The notebooks' kernel is this venv's ipykernel.
    status, body = _get(f"{base}/api/kernelspecs?token={token}")
    specs = json.loads(body)["kernelspecs"]
    assert status == 200 and "python3" in specs
