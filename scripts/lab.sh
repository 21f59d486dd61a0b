#!/usr/bin/env bash
# JupyterLab on notebooks/, bound to 127.0.0.1 and without opening a browser: the `make lab` command.
# Extra arguments go to JupyterLab (e.g. --ServerApp.port=8890). PYTHON picks the interpreter
# (default: the project's .venv), whose ipykernel is the notebooks' kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
# The venv's kernels (its python3 = ipykernel of this venv) before any in the user's home.
export JUPYTER_PREFER_ENV_PATH=1
args=(--ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks --no-browser)
# Jupyter refuses to start as root unless told; CI and containers run as root.
if [ "$(id -u)" = "0" ]; then
  args+=(--allow-root)
fi
exec "$PYTHON" -m jupyterlab "${args[@]}" "$@"
