"""Stage 1: balanced, contiguous grids of 300-500 households.

:mod:`.api` is the GeoDataFrame entry point (:func:`partition`), :mod:`.inputs` its joins and
checks; :mod:`.units` turns estates and buildings into planning units; :mod:`.community` plans one
community from its pieces (:mod:`.cells`), unit graph (:mod:`.unitgraph`), barrier-free regions
(:mod:`.regions`), the previous plan (:mod:`.replan`), codes (:mod:`.numbering`) and micro-grids
(:mod:`.micro`); :mod:`.search` is the array core (graph in, labels out). :mod:`.reasons` says why
a grid is outside the band, :mod:`.figures` computes the figures of grids.

The folder is ``grids`` rather than ``partition`` so that ``gridplan.partition`` stays the
function: a subpackage of the same name would replace it on the package once imported.
"""

from gridplan.grids.api import PartitionResult, partition, write_partition

__all__ = ["PartitionResult", "partition", "write_partition"]
