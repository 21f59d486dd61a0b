"""shared_boundaries(among=...) measures the same pairs as the full call, only fewer of them."""

import numpy as np
import shapely

from gridplan.geometry.adjacency import shared_boundaries


def _faces():
    # a noded street pattern with a few short stubs: faces of one noding, some of them tiny
    lines = [shapely.box(0, 0, 100, 100).exterior]
    lines += [shapely.LineString([(x, 0), (x, 100)]) for x in (17.3, 41.0, 41.4, 77.7)]
    lines += [shapely.LineString([(0, y), (100, y)]) for y in (12.5, 50.0, 50.3, 88.1)]
    lines += [shapely.LineString([(0, 0), (100, 93)])]
    noded = shapely.union_all(np.asarray(lines, dtype=object), grid_size=1e-4)
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))


def test_among_gives_the_pairs_touching_the_marked_cells_with_the_same_lengths():
    faces = _faces()
    i, j, length = shared_boundaries(faces)
    small = shapely.area(faces) < 20.0
    assert small.any() and not small.all()
    si, sj, slen = shared_boundaries(faces, among=small)
    full = {(a, b): ln for a, b, ln in zip(i.tolist(), j.tolist(), length.tolist()) if small[a] or small[b]}
    got = dict(zip(zip(si.tolist(), sj.tolist()), slen.tolist()))
    assert got == full  # bit-identical lengths: the merge of slivers must not change
    assert list(zip(si.tolist(), sj.tolist())) == sorted(got)


def test_among_nothing_marked_gives_no_pairs():
    faces = _faces()
    i, j, length = shared_boundaries(faces, among=np.zeros(len(faces), dtype=bool))
    assert len(i) == len(j) == len(length) == 0
