"""The unix socket admits the superuser alone: serving roles log in with a password over TLS.

A password line for the socket let any local account log in as any serving role without TLS
(the socket's folder was open to every account). The session's cluster, made as `make pg`
makes one, must refuse the BI login on its socket, keep the socket's folder to the server
user, and still run the project's own superuser SQL through it.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from serving import pg_cluster, pg_roles

pytestmark = pytest.mark.xdist_group("pg")


def test_a_serving_role_cannot_log_in_over_the_socket(pg, published):
    with psycopg.connect(pg.bi_url) as conn:  # the same role and password over TLS: fine
        assert conn.execute("select current_user").fetchone() == (pg_roles.DEFAULT_ROLES.bi,)
    with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
        psycopg.connect(
            host=str(pg.cluster.socket_dir),
            port=pg.cluster.port,
            dbname="serving",
            user=pg_roles.DEFAULT_ROLES.bi,
            password=BI_PASSWORD,
        )


def test_the_socket_folder_is_the_server_users_alone_and_superuser_sql_still_runs(pg):
    folder = pg.cluster.socket_dir.stat()
    assert folder.st_mode & 0o777 == 0o700
    assert pwd.getpwuid(folder.st_uid).pw_name == pg_cluster.superuser()
    out = pg.cluster.psql_superuser("select 41 + 1 as answer;", database="serving")
    assert out.split() == ["answer", "--------", "42", "(1", "row)"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act as another local account")
def test_another_local_account_cannot_reach_the_socket(pg):
    sockets = list(pg.cluster.socket_dir.glob(".s.PGSQL.*"))
    assert sockets, "the server's socket is in its folder"
    probe = ["runuser", "-u", "nobody", "--", "test", "-e", str(sockets[0])]
    assert subprocess.run(probe, capture_output=True).returncode == 1


def test_a_cluster_made_with_the_socket_password_line_loses_it(tmp_path: Path):
    """`close_socket` (run by every start) brings an older cluster's files up to the rule."""
    cluster = pg_cluster.Cluster(tmp_path, 5432)
    cluster.pgdata.mkdir()
    cluster.socket_dir.mkdir(mode=0o755)
    cluster.socket_dir.chmod(0o755)
    older = (
        "\nlocal   all   postgres   peer\n"
        "local   all   all           scram-sha-256\n"
        "hostssl all   all   127.0.0.1/32   scram-sha-256\n"
    )
    (cluster.pgdata / "pg_hba.conf").write_text(older)
    assert pg_cluster.close_socket(cluster) is True
    assert (cluster.pgdata / "pg_hba.conf").read_text() == (
        "\nlocal   all   postgres   peer\nhostssl all   all   127.0.0.1/32   scram-sha-256\n"
    )
    assert cluster.socket_dir.stat().st_mode & 0o777 == 0o700
    assert pg_cluster.close_socket(cluster) is False  # nothing left to change
