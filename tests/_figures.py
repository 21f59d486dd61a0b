"""What the figure tests share: the colours a grid map's legend draws, and finding them in a PNG.

The expected colours are read from the legend's own artists (their face colour and alpha, blended
over the white page as the PNG is saved), so a change of style is followed, never guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.image import imread
from matplotlib.patches import Rectangle

#: The order in which :func:`gridplan.report.figures.plot_grids` lists the status swatches.
STATUSES = ("ok", "under", "over")


def legend_swatches(fig) -> list[tuple[np.ndarray, float]]:
    """Each filled swatch of the figure's legend: its RGB (0-1) as drawn over white, and its area
    in pixels at the figure's dpi, in legend order."""
    fig.draw_without_rendering()  # lays the figure out, so that the swatches have their size
    legend = fig.axes[0].get_legend()
    out = []
    for handle in legend.legend_handles:
        if not isinstance(handle, Rectangle):
            continue  # a line (the community boundary)
        r, g, b, a = handle.get_facecolor()
        box = handle.get_window_extent()
        out.append((a * np.array([r, g, b]) + (1 - a), box.width * box.height))
    return out


def status_swatches(fig) -> dict[str, tuple[np.ndarray, float]]:
    """The grid map's status swatches by status (``ok``, ``under``, ``over``)."""
    swatches = legend_swatches(fig)
    assert len(swatches) >= len(STATUSES), swatches
    return dict(zip(STATUSES, swatches))


def pixels_near(png: Path | np.ndarray, rgb: np.ndarray, tol: float = 0.03) -> int:
    """How many pixels of ``png`` (a file or an image array) are within ``tol`` of ``rgb`` in
    every channel."""
    img = imread(png) if not isinstance(png, np.ndarray) else png
    img = img[..., :3].astype(float)
    if img.max() > 1.0:  # 8-bit values
        img = img / 255.0
    return int((np.abs(img - np.asarray(rgb)).max(axis=2) < tol).sum())


def missing_status_colours(png: Path, reference) -> dict[str, tuple[int, float]]:
    """Statuses whose legend colour (taken from the ``reference`` grid map figure) covers less
    than half its swatch's area in ``png``: ``{status: (pixels found, swatch area)}``; empty when
    all three are drawn."""
    img = imread(png)
    missing = {}
    for status, (rgb, area) in status_swatches(reference).items():
        found = pixels_near(img, rgb)
        if found < 0.5 * area:
            missing[status] = (found, area)
    return missing
