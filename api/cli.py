"""The ``locker`` command: one entry point for the station, its database and its hardware."""

from __future__ import annotations

import gc

# The imports below make a great many objects that live as long as the process (routes,
# tables, models): the collector, enabled again after them, would only walk them over and
# over while they load (issue 29: about a tenth of the start's CPU time). Frozen after
# them (gc.freeze), they are never walked at all: the first full collection of a start,
# ~0.15 s of CPU, is gone with it.
gc.disable()
try:
    import typer

    from api.accounts_cli import courier_app, kiosk_app, staff_app
    from api.serve import serve
    from api.service_cli import service_app
    from locker.runtime.cli import db_app, layout_app
finally:
    gc.freeze()
    gc.enable()

app = typer.Typer(help="Open pickup station controller.", no_args_is_help=True)
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(layout_app, name="layout")
app.add_typer(staff_app, name="staff")
app.add_typer(courier_app, name="courier")
app.add_typer(kiosk_app, name="kiosk")
app.add_typer(service_app, name="service")

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command("hw", context_settings=PASS_THROUGH, add_help_option=False)
def hw_command(ctx: typer.Context) -> None:
    """Talk to lock boards directly (commissioning; `locker hw --help` for its commands)."""
    import drivers.cli  # loaded only when asked for: a serving station does not need it

    drivers.cli.app(args=ctx.args, prog_name="locker hw")


@app.command("hub", context_settings=PASS_THROUGH, add_help_option=False)
def hub_command(ctx: typer.Context) -> None:
    """The fleet hub: stations report to it over MQTT (`locker hub --help`)."""
    from fleet.cli import app as hub_app  # the hub is loaded only when it is asked for

    hub_app(args=ctx.args, prog_name="locker hub")


@app.command(
    "sim",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sim_command(ctx: typer.Context) -> None:
    """Serve a simulated bus of lock boards (`locker sim --help` for its options)."""
    import sim.cli  # the simulator is loaded only when it is asked for

    simulator = typer.Typer(add_completion=False)
    simulator.command()(sim.cli.sim)
    simulator(args=ctx.args, prog_name="locker sim")
