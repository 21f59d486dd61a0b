"""Stage 0: reading, checking and writing files.

Every input goes through one reader (:mod:`.files` -> :mod:`.readers` + :mod:`.schema`), in
metres of a local projection (:mod:`.projection`), with Chinese map datums converted
(:mod:`.coords`). Every output is written all-or-nothing (:mod:`.atomic`).
"""

from gridplan.io.files import *  # noqa: F401,F403
from gridplan.io.files import __all__  # noqa: F401
