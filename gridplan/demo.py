"""The main job on the bundled sample district (``gridplan demo`` / ``make demo``).

Reads the sample's files through the same readers a user's files go through, validates them, draws
grids, computes the 15-minute circle, recommends new centres and writes everything under one
folder, with a summary a planner can read at a glance.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DemoSummary", "run_demo"]


@dataclass
class DemoSummary:
    """Figures of a demo run: ``rows`` of (step, figure, value) and the files written."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    out: Path = Path("out")

    def add(self, step: str, figure: str, value) -> None:
        self.rows.append((step, figure, str(value)))

    def to_text(self) -> str:
        w0 = max(len(r[0]) for r in self.rows)
        w1 = max(len(r[1]) for r in self.rows)
        lines = [f"{'step':<{w0}}  {'figure':<{w1}}  value", "-" * (w0 + w1 + 20)]
        last = None
        for step, fig, val in self.rows:
            lines.append(f"{step if step != last else '':<{w0}}  {fig:<{w1}}  {val}")
            last = step
        lines.append("")
        lines.append(f"outputs in {self.out}/ :")
        for p in sorted(self.files):
            try:
                lines.append(f"  {p.relative_to(self.out.parent if self.out.is_absolute() else Path.cwd())}")
            except ValueError:
                lines.append(f"  {p}")
        return "\n".join(lines)


def _sample_paths(data: Path) -> dict[str, Path]:
    return {
        "households": data / "households" / "households.geojson",
        "communities": data / "boundaries" / "communities.geojson",
        "facilities": data / "facilities" / "facilities.geojson",
        "buildings": data / "buildings" / "buildings.geojson",
        "estates": data / "estates" / "estates.geojson",
        "barriers": data / "barriers" / "barriers.geojson",
        "network": data / "network" / "walk.geojson",
    }


def run_demo(
    out: Path | str = "out",
    data: Path | str | None = None,
    *,
    add: int = 3,
    seed: int = 0,
    quiet: bool = False,
) -> DemoSummary:
    """Run validate -> partition -> coverage -> siting -> exports on the sample district.

    Parameters
    ----------
    out : path
        Output folder; sub-folders ``grids/``, ``coverage/``, ``sites/`` and ``export/``.
    data : path, optional
        Sample data folder (default: the district shipped in the package; generated when absent).
    add : int
        New centres to recommend.
    seed : int
        Random seed of the partition.
    quiet : bool
        No progress bars.

    Returns
    -------
    DemoSummary
    """
    from gridplan.datasets.sample import SAMPLE_DIR, write_sample

    out = Path(out)
    summary = DemoSummary(out=out)
    data = Path(data) if data is not None else SAMPLE_DIR
    paths = _sample_paths(data)
    if not all(p.exists() for p in paths.values()):
        write_sample(data)
    frames, net = _load(paths, out, summary)
    part = _grids(frames, net, out, summary, seed=seed, quiet=quiet)
    cov = _coverage(frames, net, part, out, summary)
    sites = _sites(frames, net, part, out, summary, add=add, seed=seed)
    _exports(frames, part, cov, sites, out, summary)
    return summary


def _load(paths: dict[str, Path], out: Path, summary: DemoSummary):
    from gridplan.network.load import load_network
    from gridplan.workflows import checked_layers, read_contract_layers

    t0 = time.perf_counter()
    layers = read_contract_layers(paths)
    frames, checked = checked_layers(layers, names={k: str(p) for k, p in paths.items()})
    checked.raise_if_errors()
    hh = frames["households"]
    net = load_network(paths["network"])
    n_hh = int(hh["households"].sum())
    summary.add("load", "households (rows / households)", f"{len(hh):,} / {n_hh:,}")
    summary.add("load", "communities", len(frames["communities"]))
    summary.add("load", "estates / buildings", f"{len(frames['estates'])} / {len(frames['buildings'])}")
    summary.add(
        "load",
        "facilities",
        ", ".join(f"{k} {v}" for k, v in frames["facilities"]["kind"].value_counts().sort_index().items()),
    )
    summary.add("load", "walking network (nodes / edges)", f"{net.n_nodes:,} / {len(net.edges):,}")
    n = {sev: sum(pr.severity == sev for pr in checked.problems) for sev in ("error", "warning", "repaired")}
    summary.add(
        "validate",
        "problems (error / warning / repaired)",
        f"{n['error']} / {n['warning']} / {n['repaired']}",
    )
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / "validation.txt"
    report_path.write_text(checked.to_text("en") + "\n\n" + checked.to_text("zh") + "\n", encoding="utf-8")
    summary.files.append(report_path)
    summary.add("load", "time", f"{time.perf_counter() - t0:.1f} s")
    return frames, net


def _grids(frames, net, out: Path, summary: DemoSummary, *, seed: int, quiet: bool):
    from gridplan.grids.api import write_partition
    from gridplan.workflows import plan_grids

    t0 = time.perf_counter()
    # the walking network's edges are the street lines the grid lines follow
    part = plan_grids(frames, seed=seed, progress=not quiet, streets=net.edges[["geometry"]])
    summary.files += write_partition(part, out / "grids")
    g = part.grids
    status = g["status"].value_counts()
    summary.add(
        "grids",
        "grids (ok / under / over)",
        f"{len(g)} ({status.get('ok', 0)} / {status.get('under', 0)} / {status.get('over', 0)})",
    )
    summary.add(
        "grids",
        "households per grid (min / median / max)",
        f"{g['households'].min()} / {g['households'].median():.0f} / {g['households'].max()}",
    )
    for row in g[g["status"] != "ok"].itertuples():
        summary.add("grids", f"flagged {row.grid_id}", f"{row.status}: {row.reason}")
    summary.add("grids", "mean compactness (Polsby-Popper)", f"{g['compactness'].mean():.2f}")
    t = part.report["total"]
    summary.add(
        "grids",
        "buildings / estates cut by grid lines",
        f"{t['buildings_cut']} / {t['estates_cut']}",
    )
    summary.add("grids", "grid lines on streets, walls, outlines", f"{t['boundary_on_features']:.1%}")
    summary.add("grids", "time", f"{time.perf_counter() - t0:.1f} s")
    return part


def _coverage(frames, net, part, out: Path, summary: DemoSummary):
    from gridplan.access.coverage import coverage, write_coverage

    t0 = time.perf_counter()
    cov = coverage(
        part.assignment, frames["facilities"], net, grids=part.grids, communities=frames["communities"]
    )
    summary.files += write_coverage(cov, out / "coverage")
    allrow = cov.summary[cov.summary["level"] == "all"].iloc[0]
    summary.add(
        "coverage",
        "households within 15 min walk",
        f"{int(allrow['households_covered']):,} of {int(allrow['households']):,} "
        f"({allrow['share_covered']:.1%})",
    )
    summary.add("coverage", "off the network", int(cov.households["off_network"].sum()))
    summary.add(
        "coverage",
        "uncovered clusters (largest)",
        f"{len(cov.gaps)} ({int(cov.gaps['households'].max()) if len(cov.gaps) else 0} households)",
    )
    st = cov.standards
    if "meets_area_norm" in st:
        short = st.loc[~st["meets_area_norm"].astype(bool), "community_id"].tolist()
        summary.add("coverage", "communities below the floor-area norm", ", ".join(map(str, short)) or "none")
    summary.add("coverage", "time", f"{time.perf_counter() - t0:.1f} s")
    return cov


def _sites(frames, net, part, out: Path, summary: DemoSummary, *, add: int, seed: int):
    from gridplan.siting.api import site, write_siting

    t0 = time.perf_counter()
    sites = site(part.assignment, frames["facilities"], net, add=add, grids=part.grids, seed=seed)
    summary.files += write_siting(sites, out / "sites")
    r = sites.report
    summary.add(
        "sites",
        f"{len(sites.sites)} new centres: coverage before -> after",
        f"{r['share_before']:.1%} -> {r['share_after']:.1%} (gap {r['gap']:.2%}, {r['status']})",
    )
    for row in sites.sites.itertuples():
        summary.add("sites", f"#{row.rank} {row.candidate_id}", f"+{row.households_gained:,.0f} households")
    summary.add("sites", "time", f"{time.perf_counter() - t0:.1f} s")
    return sites


def _exports(frames, part, cov, sites, out: Path, summary: DemoSummary) -> None:
    from gridplan.report.export import export
    from gridplan.report.figures import plot_coverage

    g = part.grids
    written = export(
        g,
        gpkg=out / "export" / "plan.gpkg",
        xlsx=out / "export" / "report.xlsx",
        png=out / "grids.png",
        communities=frames["communities"],
        micro_grids=part.micro_grids,
        households=part.assignment,
        facilities=frames["facilities"],
        isochrones=cov.isochrones,
        sites=sites.sites,
        coverage=cov,
    )
    summary.files += list(written.values())
    plot_coverage(
        cov,
        out / "coverage.png",
        facilities=frames["facilities"],
        grids=g,
        communities=frames["communities"],
        sites=sites.sites,
    )
    summary.files.append(out / "coverage.png")
    with open(out / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(
            [{"step": s, "figure": f, "value": v} for s, f, v in summary.rows],
            fh,
            ensure_ascii=False,
            indent=2,
        )
        fh.write("\n")
    summary.files.append(out / "summary.json")
