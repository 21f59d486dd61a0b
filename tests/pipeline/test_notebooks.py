"""The example notebooks: committed executed, with their outputs, in step with their build script.

The fast checks read the committed files only: the cells equal what ``notebooks/build_notebooks.py``
builds, every code cell ran (an execution count, no error output), the figures and tables are
there (PNG and HTML), and each file is under 2 MB. The slow ones execute the notebooks from start
to end, the way ``make notebooks`` does (``notebooks/run_notebooks.py``), with a bound per cell.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from conftest import load_script

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_quickstart", "02_real_osm", "03_city", "04_scenarios"]
#: Seconds one cell may take in the execution tests (the slowest notebook takes ~20 s in all).
CELL_TIMEOUT = 240


def _runner():
    return load_script("notebooks/run_notebooks.py")


def _committed(name: str) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(book)
    return book


def _cells(book: nbformat.NotebookNode) -> list[tuple]:
    """What the build script decides about each cell: kind, id, source and tags (not outputs)."""
    return [(c.cell_type, c.get("id"), c.source, c.metadata.get("tags", [])) for c in book.cells]


def _outputs(book: nbformat.NotebookNode) -> list:
    return [o for c in book.cells if c.cell_type == "code" for o in c.outputs]


def _stream_text(book: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in _outputs(book) if o.output_type == "stream")


def _mime_types(book: nbformat.NotebookNode) -> set[str]:
    return {mime for o in _outputs(book) for mime in o.get("data", {})}


def stale_reasons(name: str, book: nbformat.NotebookNode, built: nbformat.NotebookNode) -> list[str]:
    """Why the committed ``book`` is not the executed form of ``built`` (empty when it is)."""
    reasons = []
    if _cells(book) != _cells(built):
        reasons.append(f"{name}.ipynb: its cells differ from notebooks/build_notebooks.py")
    if book.metadata.get("kernelspec") != built.metadata.kernelspec:
        reasons.append(f"{name}.ipynb: its kernelspec differs from notebooks/build_notebooks.py")
    code = [c for c in book.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    if counts != list(range(1, len(code) + 1)):
        reasons.append(f"{name}.ipynb: not executed from top to bottom (execution counts {counts})")
    for cell in code:
        for out in cell.outputs:
            if out.output_type == "error":
                reasons.append(f"{name}.ipynb: cell {cell.id} has an error output ({out.ename})")
    return reasons


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_built_and_executed(name):
    built = _runner().build()
    assert sorted(built) == NAMES
    reasons = stale_reasons(name, _committed(name), built[name])
    assert not reasons, "; ".join(reasons) + ": run `make notebooks`"


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_shows_its_figures_and_tables(name):
    book = _committed(name)
    mimes = _mime_types(book)
    assert "image/png" in mimes, f"{name}.ipynb shows no PNG figure"
    assert "text/html" in mimes, f"{name}.ipynb shows no HTML table"
    # Maps are static PNG, not embedded (folium/Leaflet) HTML maps of the whole district.
    html = "".join(o.data["text/html"] for o in _outputs(book) if "text/html" in o.get("data", {}))
    assert "leaflet" not in html.lower() and "<iframe" not in html.lower()
    # The real-data notebooks are committed as run with ../shared, not as they skip without it.
    assert "Skipping" not in _stream_text(book), f"{name}.ipynb was committed without its data"


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_under_2_mb(name):
    size = (NOTEBOOKS / f"{name}.ipynb").stat().st_size
    assert size < _runner().MAX_BYTES, f"{name}.ipynb is {size:,} bytes"


def test_a_stale_notebook_is_caught():
    """The check above fails on the notebook the build script writes before execution, and on an
    executed one whose code was edited afterwards or that stopped on an error."""
    built = _runner().build()
    assert stale_reasons("01_quickstart", built["01_quickstart"], built["01_quickstart"])
    book = _committed("01_quickstart")
    code = next(c for c in book.cells if c.cell_type == "code")
    code.source += "\nprint('edited in the notebook, not in build_notebooks.py')"
    assert any("cells differ" in r for r in stale_reasons("01_quickstart", book, built["01_quickstart"]))
    book = _committed("01_quickstart")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])
    next(c for c in book.cells if c.cell_type == "code").outputs.append(error)
    assert any("error output" in r for r in stale_reasons("01_quickstart", book, built["01_quickstart"]))


def _execute(book: nbformat.NotebookNode, out_dir: Path) -> tuple[nbformat.NotebookNode, float]:
    start = time.perf_counter()
    book = _runner().execute(book, out_dir, timeout=CELL_TIMEOUT)
    return book, time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name, tmp_path):
    runner = _runner()
    book, seconds = _execute(runner.build()[name], tmp_path)
    print(f"{name}: {seconds:.1f} s")
    assert not stale_reasons(name, book, runner.build()[name])
    needs = runner.NEEDS_REALDATA.get(name)
    if needs is not None and not needs.exists():
        assert "Skipping" in _stream_text(book)
    else:
        assert "Skipping" not in _stream_text(book)
        assert sorted(p.name for p in (tmp_path / name).glob("*.png")), f"{name} drew no figures"
        assert {"image/png", "text/html"} <= _mime_types(book)


@pytest.mark.slow
def test_real_osm_notebook_says_it_skipped_without_data(tmp_path):
    """What a fresh clone without ../shared shows: a printed message, no error."""
    book = _runner().build()["02_real_osm"]
    params = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    params.source = params.source.replace(
        '"../../shared/realdata/nanjing/nanjing_xinjiekou.osm.pbf"', repr(str(tmp_path / "absent.osm.pbf"))
    )
    assert "absent.osm.pbf" in params.source
    book, _ = _execute(book, tmp_path)
    assert "Skipping:" in _stream_text(book)
    assert not [o for o in _outputs(book) if o.output_type == "error"]
    assert "image/png" not in _mime_types(book)
