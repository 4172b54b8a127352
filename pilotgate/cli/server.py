"""Running PilotGate: serve, api, worker, demo, db upgrade, and the SMSC simulator."""

from __future__ import annotations

import asyncio
import signal

import click

from pilotgate import bootstrap, config
from pilotgate.domain import audit
from pilotgate.gateway import Gateway
from pilotgate.operations import retention as retention_ops
from pilotgate.storage.roles import Store

from .base import _serve, _settings, main, with_gateway, with_store


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes: from 2 on, one runs the pipeline and the others share the port "
    "serving the API.",
)
@click.option("--no-pipeline", is_flag=True, help="Serve the API only (no delivery worker).")
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, workers: int, no_pipeline: bool
) -> None:
    """Run the HTTP API and the delivery pipeline until SIGINT/SIGTERM."""
    settings = _settings(ctx)
    settings = config.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    _serve(settings, lambda url: [], workers=workers, pipeline=False if no_pipeline else None)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes sharing the port.",
)
@click.pass_context
def api(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Run only the HTTP API (the pipeline runs in `pilotgate worker` processes)."""
    settings = _settings(ctx)
    settings = config.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    _serve(settings, lambda url: [], workers=workers, pipeline=False)


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Pipeline processes (claims are safe between them on PostgreSQL).",
)
@click.pass_context
def worker(ctx: click.Context, workers: int) -> None:
    """Run only the delivery pipeline: outbox, scheduler, expiry and callbacks."""
    _serve(_settings(ctx), lambda url: [], workers=workers, api=False, pipeline=True)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Create the demo account (published test key) if needed, print a curl line, serve."""
    settings = _settings(ctx)
    settings = config.replace(
        settings,
        host=host or settings.host,
        port=settings.port if port is None else port,
        # A demo with a published key hides nothing: /metrics stays open on its port, as
        # before, unless a metrics listener is set (docs/decisions.md, "/metrics").
        metrics_public=settings.metrics_public or not settings.metrics_listen,
    )

    async def prepare() -> None:
        store = await bootstrap.open_store(settings)
        try:
            await bootstrap.ensure_demo(bootstrap.build_gateway(settings, store), settings)
        finally:
            await store.close()

    asyncio.run(prepare())
    key = bootstrap.DEMO_KEY
    _serve(
        settings,
        lambda url: [
            f"Demo account: {bootstrap.DEMO_EMAIL} / {bootstrap.DEMO_PASSWORD}, API key {key}",
            "Try it:",
            f"  curl '{url}/api.php?send=Hello&to=79087964781&apikey={key}&format=json'",
            f"  curl '{url}/api.php?check=<server_id>&apikey={key}&format=json'",
        ],
    )


# db ----------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_store
async def db_upgrade(settings: config.Settings, store: Store) -> None:
    """Apply pending migrations (serve applies them too)."""
    click.echo(f"schema is up to date ({settings.database_url.split('@')[-1]})")


@db.command("prune")
@click.option(
    "--days", type=click.IntRange(min=0), default=None,
    help="Remove what is older than this (default: PILOTGATE_RETENTION_DAYS; 0: all final).",
)  # fmt: skip
@with_gateway
async def db_prune(settings: config.Settings, gateway: Gateway, days: int | None) -> None:
    """Remove old final messages, inbound messages and ledger detail now; balances stay
    exact (the workers do this by themselves when PILOTGATE_RETENTION_DAYS is set)."""
    if days is None:
        if settings.retention_days <= 0:
            raise click.UsageError("give --days, or set PILOTGATE_RETENTION_DAYS")
        days = settings.retention_days
    removed = await retention_ops.prune_history(gateway, audit.CLI, days)
    click.echo(f"removed (older than {days} days): {retention_ops.describe(removed)}")


@main.command("smsc-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=2775, show_default=True, help="0 picks a free one.")
@click.option("--behaviour", default="happy", show_default=True, help="happy, throttling, …")
@click.option("--receipt-delay", type=float, default=1.0, show_default=True, help="Seconds.")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="On exit, write each accepted submit_sm here: its message id and destination.",
)
def smsc_sim(
    host: str, port: int, behaviour: str, receipt_delay: float, journal: str | None
) -> None:
    """Run the SMSC simulator the tests use (behaviours: pilotgate/testing/smsc/behaviour.py)."""
    # Imported here: only this command needs the test doubles.
    from pilotgate.testing.smsc import Behaviour, SmscSimulator

    try:
        chosen = Behaviour(behaviour)
    except ValueError:
        names = ", ".join(b.value for b in Behaviour)
        raise click.BadParameter(f"{behaviour!r} is not one of {names}") from None

    async def run() -> None:
        # SIGTERM (a service manager, a test fixture) and SIGINT (Ctrl-C) both stop it
        # cleanly, with exit code 0; handled by the loop, SIGINT works even when the parent
        # started us with it ignored (a background job of a script).
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        simulator = SmscSimulator(chosen, host=host, port=port, receipt_delay=receipt_delay)
        async with simulator:
            click.echo(f"SMSC simulator on {host}:{simulator.port}, behaviour {chosen}")
            await stop.wait()
        if journal:  # what a test counts: a message submitted twice shows up twice
            lines = (f"{s.message_id} {s.destination}\n" for s in simulator.submits)
            with open(journal, "w", encoding="utf-8") as out:  # noqa: ASYNC230 - on exit
                out.writelines(lines)

    asyncio.run(run())
