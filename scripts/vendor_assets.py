"""Fetch the map's JavaScript/CSS from the npm registry into gridplan/assets/vendor/.

The web map must work on government intranets without internet: folium and streamlit-folium load
Leaflet, jQuery, Bootstrap and Font Awesome from CDNs by default, and offline the map does not
render. This build step fetches pinned releases with ``npm pack`` (the registry's ordinary client),
keeps only the minified files and the one web font the map needs, and writes ``manifest.json``
with versions, sources and SHA-256 sums. The files are committed; users never run this.

Usage::

    python scripts/vendor_assets.py          # re-fetch and rewrite gridplan/assets/vendor/
    python scripts/vendor_assets.py --check  # verify the committed files against manifest.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "gridplan" / "assets" / "vendor"

#: npm spec -> (target folder, {file in the package: file name in the target folder})
PACKAGES = {
    "leaflet@1.9.4": (
        "leaflet",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
            "LICENSE": "LICENSE",
        },
    ),
    "jquery@3.7.1": (
        "jquery",
        {
            "dist/jquery.min.js": "jquery.min.js",
            "LICENSE.txt": "LICENSE.txt",
        },
    ),
    "bootstrap@5.3.3": (
        "bootstrap",
        {
            "dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
            "dist/css/bootstrap.min.css": "bootstrap.min.css",
            "LICENSE": "LICENSE",
        },
    ),
    "@fortawesome/fontawesome-free@6.5.2": (
        "fontawesome",
        {
            "css/fontawesome.min.css": "css/fontawesome.min.css",
            "css/solid.min.css": "css/solid.min.css",
            "webfonts/fa-solid-900.woff2": "webfonts/fa-solid-900.woff2",
            "LICENSE.txt": "LICENSE.txt",
        },
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(dest: Path = VENDOR) -> dict:
    """Download every package with ``npm pack`` and copy the selected files to ``dest``."""
    manifest = {"generated_by": "scripts/vendor_assets.py", "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        staging = tmp / "vendor"
        for spec, (folder, files) in PACKAGES.items():
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", str(tmp)],
                check=True,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            info = json.loads(out.stdout)[0]
            unpack = tmp / folder
            with tarfile.open(tmp / info["filename"]) as tar:
                tar.extractall(unpack, filter="data")  # the "data" filter refuses path traversal
            entry = {
                "version": info["version"],
                "integrity": info.get("integrity"),
                "source": f"npm:{info['name']}@{info['version']}",
                "files": {},
            }
            for src, name in files.items():
                target = staging / folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(unpack / "package" / src, target)
                entry["files"][name] = _sha256(target)
            manifest["packages"][folder] = entry
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(staging, dest)
    return manifest


def check(dest: Path = VENDOR) -> list[str]:
    """Files missing or differing from ``manifest.json`` (empty when all is well)."""
    manifest = json.loads((dest / "manifest.json").read_text())
    bad = []
    for folder, entry in manifest["packages"].items():
        for name, digest in entry["files"].items():
            path = dest / folder / name
            if not path.exists() or _sha256(path) != digest:
                bad.append(str(path.relative_to(ROOT)))
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of fetching")
    args = parser.parse_args(argv)
    if args.check:
        bad = check()
        for b in bad:
            print(f"changed or missing: {b}")
        return 1 if bad else 0
    manifest = fetch()
    total = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    for folder, entry in sorted(manifest["packages"].items()):
        print(f"{folder:12s} {entry['version']:8s} {len(entry['files'])} files")
    print(f"total {total / 1024:.0f} KiB in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
