"""`medspa serving ...`: the PostgreSQL serving target's local cluster and its readers.

- `pg-packages` / `pg-start` / `pg-stop`: what `make pg` and `make pg-stop` run (a cluster
  under `<data-dir>/pg`, see `serving.pg_cluster`).
- `add-reader NAME --password-env VAR [--location ID ...]`: a login for a location manager
  (or, without `--location`, the whole chain). The password is read from the named variable,
  never from the command line, where `ps` and shell history would keep it.
- `remove-reader NAME`: drop a reader `add-reader` made (its sessions, policies, registry row
  and role); any other role of that name is refused.
- `add-reader --tenant NAME --password-env VAR`: with a tenant registry, create or rotate the
  tenant's BI login `medspa_tenant_<NAME>`, which sees only that tenant's rows
  (`serving.pg_tenant_roles`).
Both `add-reader`s warn, naming the SQL a superuser must run once, while readers may still
call the advisory-lock or large-object functions (`serving.pg_functions`): `pg-start` revokes
them, as the cluster's superuser; on another server the owner usually cannot.
Secrets stay out of the terminal: the owner's URL is written to a 0600 file and the printed
`export` line reads it from there, and error texts are masked (`pg_url.mask_secrets`: libpq
quotes a malformed URL's password in its errors).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from medspa.cli import add_data_dir_option
from medspa.settings import Settings, env_pg_port

DEFAULT_PORT = 5433
DATABASE, OWNER = "serving", "medspa_owner"


#: action -> (one line for `medspa serving --help`, what its own `--help` says above its options).
ACTIONS: dict[str, tuple[str, str]] = {
    "pg-packages": (
        "install Debian's PostgreSQL, pgJDBC and psqlODBC",
        "Install Debian's PostgreSQL, pgJDBC and psqlODBC (apt-get, with sudo when not root); "
        "a no-op once present. `make pg` runs it.",
    ),
    "pg-start": (
        "start the local cluster; create database + roles",
        "Start the local PostgreSQL serving cluster under <data-dir>/pg (created on first "
        "start), create the serving database and its roles, and print the export line for "
        "MEDSPA_SERVING_URL and the fields Metabase and Power BI ask for. `make pg` runs it.",
    ),
    "pg-stop": ("stop the local cluster", "Stop the local PostgreSQL serving cluster."),
    "add-reader": (
        "create a login role for a BI reader",
        "Create (or rotate the password of) a login role for a BI reader: one location "
        "manager (--location, repeatable) or the whole chain; with --tenant, a registry "
        "tenant's login, which sees only that tenant's rows. The password is read from the "
        "variable --password-env names, never from the command line.",
    ),
    "remove-reader": (
        "drop a login role add-reader created",
        "Drop a reader add-reader created: its sessions, row policies, registry row and role. "
        "Any other role of that name is refused.",
    ),
}


def _action(subs: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    """The sub-command `name`, with its one-line help and its own `--help` description."""
    summary, description = ACTIONS[name]
    return subs.add_parser(name, help=summary, description=description)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    subs = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    _action(subs, "pg-packages")
    start = _action(subs, "pg-start")
    add_data_dir_option(start)
    start.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"TCP port on 127.0.0.1 (default: $MEDSPA_PG_PORT or {DEFAULT_PORT})",
    )
    stop = _action(subs, "pg-stop")
    add_data_dir_option(stop)
    reader = _action(subs, "add-reader")
    reader.add_argument(
        "name", nargs="?", help="role name (lower-case letters, digits, _); not with --tenant"
    )
    reader.add_argument(
        "--tenant",
        metavar="NAME",
        help=(
            "a registry tenant: create or rotate its login <prefix>_tenant_<NAME> "
            "(medspa_tenant_<NAME> by default)"
        ),
    )
    reader.add_argument(
        "--password-env", required=True, metavar="VAR", help="variable holding the password"
    )
    reader.add_argument(
        "--location",
        action="append",
        default=[],
        metavar="ID",
        help="location_id this reader may see (repeat; none = the whole chain)",
    )

    remove = _action(subs, "remove-reader")
    remove.add_argument("name", help="the reader's role name")


def _start(args: argparse.Namespace) -> int:
    from serving import pg_cluster, pg_roles
    from serving.pg_url import masked_errors, with_user

    settings = Settings.from_env(args.data_dir)
    roles = pg_roles.ServingRoles(settings.serving_role_prefix)
    port = args.port if args.port is not None else env_pg_port(DEFAULT_PORT)
    cluster = pg_cluster.init_cluster(settings.pg_dir, port)
    pg_cluster.start(cluster)
    url_file = settings.pg_dir / "serving_url"
    if url_file.exists():
        url = url_file.read_text().strip()
    else:
        base = f"postgresql://127.0.0.1:{cluster.port}/{DATABASE}?sslmode=require"
        url = with_user(base, OWNER, secrets.token_urlsafe(24))
        url_file.touch(mode=0o600)
        url_file.write_text(url + "\n")
    from urllib.parse import unquote, urlsplit

    owner_password = unquote(urlsplit(url).password or "")
    cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, OWNER, owner_password))
    import psycopg

    with masked_errors(url), psycopg.connect(url, autocommit=True) as conn:
        notes = pg_roles.ensure_base_roles(conn, settings.bi_password, roles)
    print(f"PostgreSQL serving cluster running: {cluster.pgdata} (log {cluster.log_file})")
    print("Publish into it (every `medspa run` / nightly run then also writes PostgreSQL):")
    print(f'  export MEDSPA_SERVING_URL="$(cat {url_file})"')
    print("Metabase (Add database -> PostgreSQL) / Power BI (Get Data -> PostgreSQL database):")
    print(f"  host 127.0.0.1   port {cluster.port}   database {DATABASE}")
    print(f"  user {roles.bi}   password: the value of MEDSPA_BI_PASSWORD   SSL: required")
    print(f"  (self-signed certificate: {cluster.pgdata / 'server.crt'})")
    for note in notes:
        print(f"note: {note}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from serving import pg_cluster

    settings = Settings.from_env(args.data_dir)
    pgdata = settings.pg_dir / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        print(f"no cluster under {settings.pg_dir}")
        return 0
    stopped = pg_cluster.stop(pg_cluster.Cluster(settings.pg_dir, 0))
    print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")
    return 0


def _no_serving_url(settings: Settings) -> str:
    """The error (and the next step) when MEDSPA_SERVING_URL is not set."""
    return (
        "MEDSPA_SERVING_URL is not set: there is no PostgreSQL serving target; run `make pg` "
        f'and export MEDSPA_SERVING_URL="$(cat {settings.pg_dir / "serving_url"})" (the line '
        "it prints), or set it to your own server's owner URL "
        "(postgresql://owner:…@host:5432/serving?sslmode=require)"
    )


def _reader_usage_error(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why these add-reader arguments cannot work, or None."""
    if not settings.serving_url:
        return _no_serving_url(settings)
    if args.tenant is None:
        if not args.name:
            return "add-reader needs a role NAME (or --tenant NAME for a tenant's login)"
        return None
    if args.name or args.location:
        return "--tenant names the login itself (<prefix>_tenant_<NAME>): no NAME or --location"
    if settings.tenants_file is None:
        return "--tenant needs the tenant registry (MEDSPA_TENANTS_FILE)"
    from medspa.tenants import TenantRegistryError, find_tenant

    try:
        find_tenant(settings, args.tenant)
    except TenantRegistryError as exc:
        return str(exc)
    return None


def _add_tenant_login(args: argparse.Namespace, url: str, password: str, role_prefix: str) -> int:
    import psycopg

    from serving import pg_functions, pg_roles, pg_tenant_roles
    from serving.pg_url import mask_secrets, mask_url

    try:
        roles = pg_roles.ServingRoles(role_prefix)
        with psycopg.connect(url, autocommit=True) as conn:
            role = pg_tenant_roles.add_tenant_login(conn, args.tenant, password, roles)
            warnings = pg_functions.exposure_notes(conn, roles.read)
    except (ValueError, psycopg.Error) as exc:
        print(
            f"add-reader failed on {mask_url(url)}: {mask_secrets(str(exc), url)}", file=sys.stderr
        )
        return 1
    print(f"reader {role} can log in and sees tenant {args.tenant}'s rows only")
    _warn(warnings)
    return 0


def _warn(warnings: list[str]) -> None:
    """Readers may still call functions only a superuser can close (`serving.pg_functions`)."""
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _add_reader(args: argparse.Namespace) -> int:
    import psycopg

    from serving import pg_functions, pg_roles
    from serving.pg_url import mask_secrets, mask_url

    settings = Settings.from_env()
    problem = _reader_usage_error(args, settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    password = os.environ.get(args.password_env, "")
    if not password:
        who = args.name or f"tenant {args.tenant}"
        print(
            f"error: {args.password_env} is empty or not set: no password for {who}",
            file=sys.stderr,
        )
        return 2
    if args.tenant is not None:
        return _add_tenant_login(args, settings.serving_url, password, settings.serving_role_prefix)
    try:
        roles = pg_roles.ServingRoles(settings.serving_role_prefix)
        with psycopg.connect(settings.serving_url, autocommit=True) as conn:
            pg_roles.add_reader(conn, args.name, password, args.location or None, roles)
            warnings = pg_functions.exposure_notes(conn, roles.read)
    except (ValueError, psycopg.Error) as exc:
        text = mask_secrets(str(exc), settings.serving_url)
        print(f"add-reader failed on {mask_url(settings.serving_url)}: {text}", file=sys.stderr)
        return 1
    scope = ", ".join(args.location) if args.location else "the whole chain"
    print(f"reader {args.name} can log in and sees {scope}")
    _warn(warnings)
    return 0


def _remove_reader(args: argparse.Namespace) -> int:
    import psycopg

    from serving import pg_roles
    from serving.pg_url import mask_secrets, mask_url

    settings = Settings.from_env()
    if not settings.serving_url:
        print(f"error: {_no_serving_url(settings)}", file=sys.stderr)
        return 2
    try:
        roles = pg_roles.ServingRoles(settings.serving_role_prefix)
        with psycopg.connect(settings.serving_url, autocommit=True) as conn:
            notes = pg_roles.remove_reader(conn, args.name, roles)
    except (ValueError, psycopg.Error) as exc:
        text = mask_secrets(str(exc), settings.serving_url)
        print(f"remove-reader failed on {mask_url(settings.serving_url)}: {text}", file=sys.stderr)
        return 1
    print(f"reader {args.name} was dropped")
    for note in notes:
        print(note)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "pg-packages":
        from serving import pg_cluster

        installed = pg_cluster.install_packages()
        print(f"installed: {' '.join(installed)}" if installed else "PostgreSQL packages present")
        return 0
    actions = {
        "pg-start": _start,
        "pg-stop": _stop,
        "add-reader": _add_reader,
        "remove-reader": _remove_reader,
    }
    return actions[args.action](args)
