"""The cluster's log and folder are the server user's alone, and the log keeps no statements.

PostgreSQL writes a failed statement's text to its log (`log_min_error_statement`, default
ERROR): a reader's `alter role ... password '...'`, refused in its read-only session, put the
clear-text password into `server.log`, which was created 0644 in a 0755 folder. The session's
cluster, started as `make pg` starts one, must keep both private and log no statement text;
`start` must bring an older cluster's folder, log and settings up to that.
"""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest

from serving import pg_cluster, pg_roles
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")


def test_the_cluster_folder_is_0700_and_its_log_0600(pg):
    root, log = pg.cluster.root.stat(), pg.cluster.log_file.stat()
    assert root.st_mode & 0o777 == 0o700
    assert log.st_mode & 0o777 == 0o600
    assert pwd.getpwuid(log.st_uid).pw_name == pg_cluster.superuser()


def test_the_cluster_logs_no_statement_text(pg):
    with pg.connect() as conn:
        settings = dict(
            conn.execute(
                "select name, setting from pg_settings "
                "where name in ('log_min_error_statement', 'log_statement')"
            ).fetchall()
        )
    assert settings == {"log_min_error_statement": "panic", "log_statement": "none"}


def test_a_refused_password_change_leaves_no_password_others_can_read(pg, published):
    """The audit's case: a reader changes its password with clear text in its read-only
    session; the statement fails, and the password must not be in the log (and the log is
    not readable by any other account anyway)."""
    name, password = "logs_reader", "pw-" + secrets.token_hex(8)
    with pg.connect() as conn:
        pg_roles.add_reader(conn, name, password, None)
    secret = "leak-" + secrets.token_hex(8)
    try:
        with psycopg.connect(with_user(pg.url, name, password), autocommit=True) as conn:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute(f"alter role {name} password '{secret}'")
            # An error quoting its input is still logged, without the statement.
            with pytest.raises(psycopg.errors.SyntaxError):
                conn.execute(f"alter role {name} password '{secret}' nonsense")
        logged = pg.cluster.log_file.read_text(errors="replace")
        assert "cannot execute ALTER ROLE in a read-only transaction" in logged
        assert secret not in logged
        assert "STATEMENT:" not in logged
    finally:
        with pg.connect() as conn:
            pg_roles.remove_reader(conn, name)
    if os.geteuid() == 0:
        probe = ["runuser", "-u", "nobody", "--", "cat", str(pg.cluster.log_file)]
        assert subprocess.run(probe, capture_output=True).returncode != 0


def test_start_corrects_an_older_clusters_modes_and_logging(tmp_path: Path):
    """`private_files` and `quiet_statement_log` (run by every start) on a cluster made
    before them: a 0755 folder, a 0644 log, a postgresql.conf without the logging block."""
    cluster = pg_cluster.Cluster(tmp_path / "pg", 5432)
    cluster.pgdata.mkdir(parents=True)
    cluster.root.chmod(0o755)
    cluster.log_file.write_text("old lines\n")
    cluster.log_file.chmod(0o644)
    conf = cluster.pgdata / "postgresql.conf"
    older = "#log_min_error_statement = error\nport = 5432\nlogging_collector = off\n"
    conf.write_text(older)

    pg_cluster.private_files(cluster)
    assert cluster.root.stat().st_mode & 0o777 == 0o700
    assert cluster.log_file.stat().st_mode & 0o777 == 0o600
    assert cluster.log_file.read_text() == "old lines\n"  # corrected, never truncated

    assert pg_cluster.quiet_statement_log(cluster) is True
    text = conf.read_text()
    assert text.startswith(older)
    assert text.endswith("log_min_error_statement = panic\nlog_statement = 'none'\n")
    assert pg_cluster.quiet_statement_log(cluster) is False  # nothing left to change
    # An operator's later line wins in PostgreSQL: the next start puts ours after it again.
    conf.write_text(text + "log_min_error_statement = error\n")
    assert pg_cluster.quiet_statement_log(cluster) is True
    assert pg_cluster.quiet_statement_log(cluster) is False


def test_a_new_log_is_created_0600(tmp_path: Path):
    cluster = pg_cluster.Cluster(tmp_path / "pg", 5432)
    cluster.root.mkdir()
    old = os.umask(0o022)
    try:
        pg_cluster.private_files(cluster)
    finally:
        os.umask(old)
    assert cluster.log_file.stat().st_mode & 0o777 == 0o600
