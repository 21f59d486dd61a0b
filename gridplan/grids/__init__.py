"""Stage 1: balanced, contiguous grids of 300-500 households.

:mod:`.api` is the GeoDataFrame entry point (:func:`partition`); :mod:`.units` turns estates and
buildings into planning units; :mod:`.community` plans one community; :mod:`.search` is the
array core (graph in, labels out).

The folder is ``grids`` rather than ``partition`` so that ``gridplan.partition`` stays the
function: a subpackage of the same name would replace it on the package once imported.
"""

from gridplan.grids.api import PartitionResult, partition, write_partition

__all__ = ["PartitionResult", "partition", "write_partition"]
