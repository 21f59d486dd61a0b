"""A throwaway PostgreSQL + PostGIS cluster for the PostGIS tests (stdlib only).

Used two ways, so that the rule for starting the test server lives here only:

- by ``.ci/run``: ``eval "$(python3 tests/pgcluster.py start DIR)"`` prints the ``export`` lines
  (``GRIDPLAN_TEST_PG``, ``PGPASSFILE``) and ``python3 tests/pgcluster.py stop DIR`` stops it;
- by ``tests/io/conftest.py`` when no server is given, if the binaries are installed.

The cluster listens on 127.0.0.1 on a free port with password (SCRAM) authentication, so that
a wrong password really fails; the password is in a ``.pgpass`` file, never on a command line.
initdb refuses to run as root: as root the server runs as the ``postgres`` user Debian creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "gridplan"
DATABASE = "gridplan"


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` of an installation with PostGIS, or None."""
    found = shutil.which("pg_ctl")
    dirs = [str(Path(found).resolve().parent)] if found else []
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in dirs:
        bindir = Path(d)
        if not (bindir / "initdb").exists() or not (bindir / "pg_config").exists():
            continue
        share = subprocess.run(
            [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True
        ).stdout.strip()
        if (Path(share) / "extension" / "postgis.control").exists():
            return bindir
    return None


def missing_reason() -> str | None:
    """Why no throwaway cluster can be started here (None when it can)."""
    if binaries() is None:
        return "PostgreSQL with PostGIS is not installed (apt-get install postgresql postgresql-postgis)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str]) -> None:
    """Run ``cmd`` (as the server user when root), raising with its output when it fails."""
    done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start(folder: str | os.PathLike) -> dict[str, str]:
    """Create and start a cluster in ``folder``; return the environment the tests need."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError(missing_reason())
    folder = Path(folder).resolve()
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    data.mkdir()
    password = secrets.token_hex(16)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        os.chmod(folder, 0o755)  # the server user must reach its data folder
        os.chown(data, server.pw_uid, server.pw_gid)
        os.chown(pwfile, server.pw_uid, server.pw_gid)
    os.chmod(data, 0o700)
    port = _free_port()
    _run([
        str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth-local=trust",
        "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
    ])  # fmt: skip
    pwfile.unlink()
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(data / "server.log")
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start"])
    psql = [str(bindir / "psql"), "-h", str(data), "-p", str(port), "-U", USER, "-v", "ON_ERROR_STOP=1"]
    _run([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}"])
    _run([*psql, "-d", DATABASE, "-c", "CREATE EXTENSION postgis"])
    pgpass = folder / "pgpass"
    pgpass.write_text(f"127.0.0.1:{port}:*:{USER}:{password}\n")
    os.chmod(pgpass, 0o600)
    return {
        "GRIDPLAN_TEST_PG": f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}",
        "PGPASSFILE": str(pgpass),
    }


def stop(folder: str | os.PathLike) -> None:
    """Stop the cluster in ``folder`` (if running) and delete the folder."""
    bindir = binaries()
    data = Path(folder).resolve() / "data"
    if bindir is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
    shutil.rmtree(folder, ignore_errors=True)


def server_version(bindir: Path | None = None) -> str:
    """The PostgreSQL and PostGIS versions of the binaries used."""
    bindir = bindir or binaries()
    if bindir is None:
        return "none"
    pg = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout
    share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True).stdout
    control = (Path(share.strip()) / "extension" / "postgis.control").read_text()
    postgis = re.search(r"default_version\s*=\s*'([^']+)'", control)
    return f"{pg.strip()}, PostGIS {postgis.group(1) if postgis else '?'}"


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "check":  # exit 1 with the reason when no cluster can be started here
        reason = missing_reason()
        print(reason or f"ok: {binaries()}")
        sys.exit(1 if reason else 0)
    elif command == "version":
        print(server_version())
    elif command in ("start", "stop") and len(sys.argv) == 3:
        if command == "stop":
            stop(sys.argv[2])
        else:
            for key, value in start(sys.argv[2]).items():
                print(f"export {key}={value}")
    else:
        sys.exit("usage: pgcluster.py check | version | start FOLDER | stop FOLDER")
