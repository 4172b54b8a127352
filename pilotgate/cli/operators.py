"""Operators of the web console (/console): separate from customer accounts."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit
from pilotgate.errors import InputError
from pilotgate.gateway import Gateway
from pilotgate.operations import operators

from .base import main, with_gateway


@main.group()
def operator() -> None:
    """Console operators (they log in at /console/)."""


@operator.command("add")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given (8 to 1024 characters).",
)
@with_gateway
async def operator_add(
    settings: config.Settings, gateway: Gateway, email: str, password: str
) -> None:
    """Create a console operator, or give an existing one a new password."""
    try:
        found, new = await operators.add(gateway, audit.CLI, email, password)
    except InputError as exc:
        if exc.field != "email":
            raise  # with_gateway names the option
        raise click.BadParameter(exc.problem, param_hint="EMAIL") from None
    if new:
        click.echo(f"operator {found.id} {found.email}")
    else:
        click.echo(f"operator {found.id} {found.email}: password changed")
