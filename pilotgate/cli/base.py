"""The command group, its settings and the helpers every command uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click

from pilotgate import __version__, bootstrap, config, logs, serving
from pilotgate.errors import GatewayError, InputError
from pilotgate.gateway import Gateway
from pilotgate.storage.roles import Store

T = TypeVar("T")


def _settings(ctx: click.Context) -> config.Settings:
    settings = ctx.obj
    assert isinstance(settings, config.Settings)
    return settings


def with_store(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async admin command with an opened, migrated store; report errors cleanly."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> T:
        settings = _settings(ctx)

        async def main() -> T:
            store = await bootstrap.open_store(settings)
            try:
                return await func(settings, store, *args, **kwargs)
            finally:
                await store.close()

        try:
            return asyncio.run(main())
        except GatewayError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def with_gateway(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Like `with_store`, handing the command a Gateway over the store: what the use cases
    of pilotgate.operations work through. A broken rule is reported as a bad option."""

    @wraps(func)
    async def run(settings: config.Settings, store: Store, *args: Any, **kwargs: Any) -> T:
        gateway: Gateway = bootstrap.build_gateway(settings, store)
        try:
            return await func(settings, gateway, *args, **kwargs)
        except InputError as exc:
            hint = "--" + exc.field.replace("_", "-")
            raise click.BadParameter(exc.problem, param_hint=hint) from None

    return with_store(run)


@click.group()
@click.version_option(__version__)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML settings file (or $PILOTGATE_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """PilotGate: a self-hosted SMS gateway speaking the SMSPILOT.RU HTTP API."""
    try:
        ctx.obj = config.load(path=config_path)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    logs.configure(ctx.obj.log_level, ctx.obj.log_format)


def _serve(
    settings: config.Settings,
    banner: Callable[[str], list[str]],
    *,
    workers: int = 1,
    api: bool = True,
    pipeline: bool | None = None,
) -> None:
    try:
        serving.serve(settings, workers=workers, api=api, pipeline=pipeline, banner=banner)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc}"
        ) from exc
