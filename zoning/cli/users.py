"""``zoning users``: who may use the service (``zoning serve --auth token|header``)."""

from __future__ import annotations

import click

from zoning.cli.serve import data_opt

ROLE_CHOICE = click.Choice(["viewer", "checker", "admin"])


@click.group(short_help="Users of zoning serve: add, list, remove, new token, role.")
def users() -> None:
    """Users of `zoning serve` and their roles: viewer (query, map, layers), checker (also
    upload checks), admin (also the audit log). Tokens are shown once and stored hashed."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True)
@data_opt
def add(name: str, role: str, data_dir: str) -> None:
    """Add user NAME; prints the token (once)."""
    from zoning.service.users import add_user

    token = add_user(data_dir, name, role)
    click.echo(f"user {name} ({role}) added; token (shown once, keep it safe):", err=True)
    click.echo(token)


@users.command("token")
@click.argument("name")
@data_opt
def token(name: str, data_dir: str) -> None:
    """A new token for NAME (the old one stops working)."""
    from zoning.service.users import renew_token

    click.echo(renew_token(data_dir, name))


@users.command("role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@data_opt
def role(name: str, role: str, data_dir: str) -> None:
    """Change the role of NAME."""
    from zoning.service.users import set_role

    set_role(data_dir, name, role)
    click.echo(f"user {name}: {role}")


@users.command("remove")
@click.argument("name")
@data_opt
def remove(name: str, data_dir: str) -> None:
    """Remove NAME (its token stops working)."""
    from zoning.service.users import remove_user

    remove_user(data_dir, name)
    click.echo(f"user {name} removed")


@users.command("list")
@data_opt
def list_cmd(data_dir: str) -> None:
    """List the users and their roles."""
    from zoning.service.users import list_users

    for name, r, created in list_users(data_dir):
        click.echo(f"{name}\t{r}\t{created}")
