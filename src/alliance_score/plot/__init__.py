"""Pictures of alliance scores, drawn with matplotlib (``pip install 'alliance-score[plot]'``).

Every function is axes-level, as seaborn's are: it takes long-form data with named
columns (``client=``, ``session=``), draws on the Axes given as ``ax=`` (or the current
Axes), and returns it (or the Figure, for the functions that draw several panels). No
function calls ``show``, changes global settings or prints.

* :func:`trajectory`: one client's scores by session, with the cut-off, prorated and
  unscored sessions and rupture episodes.
* :func:`subscales`: one panel per scale (task, bond, goal), for a client or the group.
* :func:`agreement`: client against therapist ratings, with Bland-Altman.
* :func:`early_alliance`: the early alliance across clients.
* :func:`items`: item response frequencies as diverging stacked bars.

matplotlib is imported only when a function draws, so importing this module is cheap.
"""

from __future__ import annotations

from ._agreement import agreement
from ._distributions import early_alliance, items
from ._trajectory import subscales, trajectory

__all__ = ["agreement", "early_alliance", "items", "subscales", "trajectory"]
