"""Build the example notebooks from ``build_notebooks.py`` and execute them in place (``make notebooks``).

The committed notebooks carry their outputs (maps and figures as PNG, tables as HTML), so that
they read as documents in JupyterLab, GitLab or GitHub. Run from the repository's venv:

    .venv/bin/python notebooks/run_notebooks.py            # all four
    .venv/bin/python notebooks/run_notebooks.py 01_quickstart

The kernel is always this interpreter (ipykernel in the project's venv), whatever kernels Jupyter
knows about, so a fresh clone needs no kernel registration. The notebooks that need
``../shared/realdata`` are executed without it too (they print that they skip), but the committed
version, run with the data, is then kept rather than overwritten by the skipping one.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
REALDATA = HERE.parent.parent / "shared" / "realdata"
#: What each real-data notebook reads from ../shared/realdata (the others need nothing).
NEEDS_REALDATA = {
    "02_real_osm": REALDATA / "nanjing" / "nanjing_xinjiekou.osm.pbf",
    "03_city": REALDATA / "yichang",
}
#: The review limit of issue #17: a committed notebook stays under 2 MB.
MAX_BYTES = 2_000_000


class VenvKernelManager(KernelManager):
    """Start ipykernel with this interpreter, not whatever ``python3`` kernel spec is installed."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]


def _builder():
    """The sibling ``build_notebooks`` module (also when this file is imported by the tests)."""
    if "build_notebooks" in sys.modules:
        return sys.modules["build_notebooks"]
    spec = importlib.util.spec_from_file_location("build_notebooks", HERE / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_notebooks"] = module
    spec.loader.exec_module(module)
    return module


def build() -> dict[str, nbformat.NotebookNode]:
    """The notebooks as ``build_notebooks.py`` writes them: cells without outputs.

    Returns
    -------
    dict
        Notebook name (``01_quickstart`` ...) to notebook.
    """
    return _builder().build()


def execute(book: nbformat.NotebookNode, out_dir: Path, *, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute ``book`` in place with cwd = ``notebooks/`` and the figures written under ``out_dir``.

    Parameters
    ----------
    book
        A notebook from :func:`build` (executed in place and returned).
    out_dir
        Where the notebook's PNG, GeoPackage and Excel files go (``GRIDPLAN_NOTEBOOK_OUT``).
    timeout
        Seconds allowed for one cell; a cell that takes longer raises ``CellTimeoutError``.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook; an error in a cell raises ``CellExecutionError``.
    """
    client = NotebookClient(
        book,
        timeout=timeout,
        kernel_name="python3",
        # No per-cell timestamps: the same inputs give the same file.
        record_timing=False,
        resources={"metadata": {"path": str(HERE)}},
        kernel_manager_class=VenvKernelManager,
    )
    env = {**os.environ, "GRIDPLAN_NOTEBOOK_OUT": str(out_dir), "PYTHONHASHSEED": "0"}
    return client.execute(env=env)


def write(name: str, book: nbformat.NotebookNode) -> Path:
    """Validate ``book`` and write it as ``notebooks/<name>.ipynb`` (the bytes the builder writes).

    Returns
    -------
    Path
        The notebook file.
    """
    nbformat.validate(book)
    path = HERE / f"{name}.ipynb"
    path.write_text(nbformat.writes(book) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Execute the named notebooks (all by default) and write them in place."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    books = build()
    parser.add_argument("names", nargs="*", metavar="NAME", help="default: all of " + ", ".join(books))
    names = parser.parse_args(argv).names or list(books)
    unknown = sorted(set(names) - set(books))
    if unknown:
        parser.error(f"no notebook named {', '.join(unknown)}; the notebooks are {', '.join(books)}")
    with tempfile.TemporaryDirectory(prefix="gridplan-notebooks-") as tmp:
        for name in names:
            start = time.perf_counter()
            book = execute(books[name], Path(tmp))
            seconds = time.perf_counter() - start
            needs = NEEDS_REALDATA.get(name)
            if needs is not None and not needs.exists():
                print(
                    f"{name}: executed in {seconds:.0f} s and skipped ({needs} is absent); "
                    "kept the committed notebook, which was run with the data"
                )
                continue
            path = write(name, book)
            size = path.stat().st_size
            print(
                f"{name}: executed in {seconds:.0f} s, {size / 1e6:.2f} MB -> {path.relative_to(HERE.parent)}"
            )
            if size >= MAX_BYTES:
                print(f"{name}: {size:,} bytes, over the {MAX_BYTES:,}-byte limit", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
