"""Operators of the web console (/console): separate from customer accounts."""

from __future__ import annotations

import click

from pilotgate import bootstrap, config
from pilotgate.domain import passwords as password_rules, senders as sender_rules
from pilotgate.errors import ConflictError
from pilotgate.storage.roles import Store

from .base import main, with_store


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
@with_store
async def operator_add(settings: config.Settings, store: Store, email: str, password: str) -> None:
    """Create a console operator, or give an existing one a new password."""
    email = email.strip().lower()
    if not sender_rules.is_email(email):
        raise click.BadParameter("not an e-mail address", param_hint="EMAIL")
    problem = password_rules.problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    hashed = bootstrap.build_gateway(settings, store).hash_password(password)
    try:
        created = await store.add_operator(email, hashed, bootstrap.now())
    except ConflictError:
        existing = await store.operator_by_email(email)
        assert existing is not None
        await store.set_operator_password(existing.id, hashed)
        click.echo(f"operator {existing.id} {email}: password changed")
        return
    click.echo(f"operator {created.id} {email}")
