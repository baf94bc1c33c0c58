"""Plots of PG placement: matplotlib/seaborn drawings of what :mod:`pgtools.analysis` computes.

Each function takes a snapshot (or a what-if plan) and ``ax=``, returns the matplotlib Axes and never
shows or saves a figure.  Importing this package loads matplotlib; nothing else in pgtools does.

Imports: :mod:`pgtools.analysis`, :mod:`pgtools.text` and below; never report or the CLI.
"""

from .distribution import (
    MAX_OSD_ROWS,
    crush_tree,
    failures,
    fullness,
    movement,
    osd_bars,
    pg_heatmap,
    pg_histogram,
    pg_num_steps,
)

__all__ = ['pg_heatmap', 'osd_bars', 'pg_histogram', 'crush_tree', 'movement', 'fullness', 'pg_num_steps',
           'failures', 'MAX_OSD_ROWS']
