"""The ``pgtools`` command line.  The only package that prints or exits.

Every command reads dumps (never a live cluster, except ``collect``) and prints results; commands that
suggest changes print the ``ceph`` commands for a human to run.  Bad input gives one line on stderr
(``file:line: field: what is wrong``) and exit status 2.

- :mod:`.app`: the typer app, the options several commands share, the helpers every command uses and
  :func:`main` (the console script ``pgtools`` and ``python -m pgtools``), which turns errors into exit statuses;
- :mod:`.inspect`: what a capture says (``table``, ``stats``, ``health``, ``limits``, ``verify``, ``autoscale``,
  ``pgcalc``);
- :mod:`.whatif`: simulated changes (``whatif``, ``fix-too-many-pgs``, ``report``);
- :mod:`.risk`: durability under K simultaneous failures (``risk``);
- :mod:`.balance`: upmap plans (``balance``, ``upmaps``: hygiene, pins, drains), simulated and in rounds;
- :mod:`.sweep`: durability over a grid of pg_num / size scenarios, on Dask (``sweep``);
- :mod:`.tools`: crushtool/osdmaptool-like commands (``crush-test``, ``map``, ``map-object``), ``collect`` and
  ``demo``;
- :mod:`.dropin`: ``crushtool`` and ``osdmaptool``, Ceph's own command lines and output (read with
  :mod:`.cephargs`, Ceph's argparse rules); they never go through typer (:data:`.app.FAST_PATHS`), the typer
  entries only list them in ``pgtools --help``;
- :mod:`.plain`: other plain command lines skip typer's parsing (no pydantic validator per parameter, no click
  build of every command) with the arguments typer would pass; anything unusual is left to typer.

The commands are registered here, in the order ``pgtools --help`` lists them.  Start-up time matters: the
command modules import pandas, the analysis, simulation and report code inside the commands, not at the top.

Imports: any pgtools package (the CLI is the top layer); nothing imports the CLI.
"""

from __future__ import annotations

from . import balance, dropin, inspect, risk, sweep, tools, whatif
from .app import app, main

app.command()(inspect.table)
app.command()(inspect.stats)
app.command()(inspect.health)
app.command()(inspect.limits)
app.command()(whatif.whatif)
app.command("fix-too-many-pgs")(whatif.fix_too_many_pgs_cmd)
app.command()(whatif.report)
app.command()(risk.risk)
app.command()(sweep.sweep)
app.command("balance")(balance.balance_cmd)
app.command("upmaps")(balance.upmaps_cmd)
app.command()(tools.demo)
app.command()(tools.collect)
app.command("crush-test")(tools.crush_test)
app.command("map")(tools.map_cmd)
app.command("map-object")(tools.map_object_cmd)
app.command("crushtool", context_settings=dropin.PASS_ARGS, add_help_option=False)(dropin.crushtool_cmd)
app.command("osdmaptool", context_settings=dropin.PASS_ARGS, add_help_option=False)(dropin.osdmaptool_cmd)
app.command()(inspect.verify)
app.command()(inspect.autoscale)
app.command()(inspect.pgcalc)

__all__ = ["app", "main"]
