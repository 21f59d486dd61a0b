"""The example notebooks: committed without outputs, in step with their build script, and they
execute from start to end in a kernel of this Python (cwd = notebooks/)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import load_script

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_quickstart", "02_real_osm", "03_city", "04_scenarios"]


def _load_build_script():
    return load_script("notebooks/build_notebooks.py")


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name):
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(book)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [], f"{name}: cell {cell.id} has outputs; strip them"
        assert cell.execution_count is None, f"{name}: cell {cell.id} has an execution count"


def test_notebooks_match_their_build_script():
    built = _load_build_script().build()
    assert sorted(built) == NAMES
    for name, book in built.items():
        on_disk = (NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")
        assert on_disk == nbformat.writes(book) + "\n", (
            f"{name}.ipynb differs from notebooks/build_notebooks.py: re-run the script"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("GRIDPLAN_NOTEBOOK_OUT", str(tmp_path))
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # The kernel is this interpreter (the project's venv), whatever kernels Jupyter knows about.
    client = NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.kernel_manager_class = _kernel_manager_class()
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    print(f"{name}: {seconds:.1f} s")
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(
        o.get("text", "")
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    realdata = NOTEBOOKS.parent.parent / "shared" / "realdata"
    if name in ("02_real_osm", "03_city") and not realdata.exists():
        assert "Skipping" in text
    else:
        assert "Skipping" not in text
        pngs = sorted(p.name for p in (tmp_path / name).glob("*.png"))
        assert pngs, f"{name} drew no figures"


def _kernel_manager_class():
    from jupyter_client.manager import KernelManager

    class VenvKernelManager(KernelManager):
        """Start ipykernel with this interpreter, not whatever ``python3`` spec is installed."""

        def format_kernel_cmd(self, extra_arguments=None):
            return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]

    return VenvKernelManager
