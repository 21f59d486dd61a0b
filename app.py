"""gridplan's web map for planners: ``streamlit run app.py`` (``make app``).

The app lives in :mod:`gridplan.app` (:mod:`gridplan.app.main`); this file only starts it, so that
``streamlit run`` has a script at the root of the repository.
"""

from gridplan.app.main import run

run()
