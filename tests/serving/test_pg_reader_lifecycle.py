"""Readers and base roles over a deployment's life, in a database of its own (prefix `life`):

- an owner password with unencoded `#` and `?` (libpq accepts it) publishes, and neither the
  run's notes, its target label nor a masked error holds it;
- a reader removed the PostgreSQL way (`drop owned by; drop role`) does not break publishing;
- reader names are limited so their policy names stay distinct;
- a group or BI login of our names that this deployment did not create is refused untouched,
  while one left by an earlier version (not recorded) is adopted.
"""

from __future__ import annotations

import psycopg
import pytest

from medspa.cli import main as medspa
from serving import pg_functions, pg_roles, postgres
from serving.pg_url import mask_secrets, masked_errors, server_label

pytestmark = pytest.mark.xdist_group("pg")

DATABASE, OWNER, OWNER_PW = "serving_life", "life_owner", "Ab#cd?ef"
ROLES = pg_roles.ServingRoles("life")


@pytest.fixture(scope="module")
def life_url(pg) -> str:
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, OWNER, OWNER_PW))
    # Written raw, as the audit's user did: libpq reads the whole `Ab#cd?ef` as the password.
    return f"postgresql://{OWNER}:{OWNER_PW}@127.0.0.1:{pg.cluster.port}/{DATABASE}?sslmode=require"


def _publish(serving_db, url, docs, version: str, roles=ROLES) -> postgres.PgPublishResult:
    logged: list[str] = []
    result = postgres.publish_postgres(
        serving_db, url, version, docs, bi_password="life-bi-pw", roles=roles, log=logged.append
    )
    assert not any(OWNER_PW in line for line in logged)
    return result


def test_a_password_with_hash_and_question_mark_publishes_and_never_shows(
    pg, serving_db, docs, life_url
):
    result = _publish(serving_db, life_url, docs, "l1")
    assert result.rows
    label = server_label(life_url)
    assert label == f"127.0.0.1:{pg.cluster.port}/{DATABASE}" and OWNER not in label
    with (
        pytest.raises(psycopg.Error) as err,
        masked_errors(life_url),
        psycopg.connect(life_url, autocommit=True) as conn,
    ):
        conn.execute(f"select 'at {life_url} with {OWNER_PW}'::int")
    assert OWNER_PW not in str(err.value) and "Ab#cd" not in str(err.value)
    assert "Ab" not in mask_secrets(f"password {OWNER_PW} rejected", life_url).split()[1]


def test_a_reader_dropped_the_postgresql_way_no_longer_breaks_publishing(
    pg, serving_db, docs, life_url
):
    _publish(serving_db, life_url, docs, "l1")
    with psycopg.connect(life_url, autocommit=True) as conn:
        pg_roles.add_reader(conn, "life_gone", "gone-pw-1", ["loc_a"], ROLES)
    pg.cluster.psql_superuser("drop owned by life_gone; drop role life_gone;", DATABASE)
    result = _publish(serving_db, life_url, docs, "l2")  # failed with UndefinedObject before
    assert any("life_gone" in note for note in result.notes)
    with psycopg.connect(life_url, autocommit=True) as conn:
        assert "life_gone" not in pg_roles.readers(conn)
        assert postgres.served_version(life_url) == "l2"


def test_reader_names_keep_their_policy_names_apart(pg, serving_db, docs, life_url):
    _publish(serving_db, life_url, docs, "l1")
    limit = pg_roles.MAX_READER_NAME
    assert len(f"reader_{'x' * limit}") == 63
    stem = "life_" + "m" * (limit - 5)
    with psycopg.connect(life_url, autocommit=True) as conn:
        with pytest.raises(ValueError, match=f"at most {limit}"):
            pg_roles.add_reader(conn, stem + "_a", "pw-1", ["loc_a"], ROLES)
        pg_roles.add_reader(conn, stem, "pw-1", ["loc_a"], ROLES)  # exactly the limit
        # A longer reader registered by an earlier version keeps working (password rotation)...
        legacy = "life_" + "l" * 55
        conn.execute(f"create role {legacy} login in role {ROLES.read}")
        conn.execute(
            f"insert into {pg_roles.ADMIN_SCHEMA}.readers values (%s, %s)", [legacy, ["loc_b"]]
        )
        pg_roles.add_reader(conn, legacy, "pw-2", ["loc_b"], ROLES)
        # ...but no new reader may take the policy name PostgreSQL cut it to.
        with pytest.raises(ValueError, match="share its policy name"):
            pg_roles.add_reader(conn, legacy[:limit], "pw-3", ["loc_a"], ROLES)
    _publish(serving_db, life_url, docs, "l2")  # both policies built, no DuplicateObject


def _roles_named(conn: psycopg.Connection, prefix: str) -> set[str]:
    rows = conn.execute("select rolname from pg_roles where rolname like %s", [f"{prefix}\\_%"])
    return {name for (name,) in rows}


def test_a_bi_login_someone_else_made_is_refused_and_left_alone(pg, life_url):
    alien = pg_roles.ServingRoles("alien")
    pg.cluster.psql_superuser("create role alien_bi login password 'their-own-pw';")
    with psycopg.connect(life_url, autocommit=True) as conn:
        with pytest.raises(ValueError, match=r"'alien_bi'.*not created by this deployment"):
            pg_roles.ensure_base_roles(conn, "our-bi-pw", alien)
        assert _roles_named(conn, "alien") == {"alien_bi"}  # no group made, nothing granted
        member = conn.execute(
            "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
            "where r.rolname = 'alien_bi'"
        ).fetchone()
        assert member == (0,)


@pytest.mark.parametrize("group", ["read", "chain"])
def test_a_group_someone_else_made_is_refused_and_left_alone(pg, life_url, group):
    prefix = f"other{group}"
    pg.cluster.psql_superuser(f"create role {prefix}_{group} nologin;")
    with psycopg.connect(life_url, autocommit=True) as conn:
        with pytest.raises(ValueError, match=rf"'{prefix}_{group}'.*not created by this"):
            pg_roles.ensure_base_roles(conn, "our-bi-pw", pg_roles.ServingRoles(prefix))
        assert _roles_named(conn, prefix) == {f"{prefix}_{group}"}
        with pytest.raises(ValueError, match="not created by this deployment"):
            pg_roles.add_reader(conn, f"{prefix}_x", "pw-1", None, pg_roles.ServingRoles(prefix))


def test_roles_of_an_earlier_version_not_recorded_are_adopted(pg, life_url):
    earlier = pg_roles.ServingRoles("earlier")
    with psycopg.connect(life_url, autocommit=True) as conn:
        pg_roles.ensure_base_roles(conn, "earlier-bi-pw", earlier)
        # What a deployment made before roles were recorded looks like.
        conn.execute(
            f"delete from {pg_roles.ADMIN_SCHEMA}.{pg_roles.ROLES_TABLE} "
            "where role_name like 'earlier\\_%'"
        )
        assert pg_roles.ensure_base_roles(conn, "earlier-bi-pw", earlier) == []
        recorded = conn.execute(
            f"select role_name from {pg_roles.ADMIN_SCHEMA}.{pg_roles.ROLES_TABLE} "
            "where role_name like 'earlier\\_%' order by 1"
        ).fetchall()
        assert recorded == [("earlier_bi",), ("earlier_chain",), ("earlier_read",)]


def test_an_operator_group_someone_else_made_is_refused_and_ours_is_kept(pg, life_url):
    """The operator group sees every tenant's rows: one of our name that this deployment did
    not create is refused, not reused; the one it created is recorded and accepted again."""
    from serving import pg_tenant_roles

    foreign, ours = pg_roles.ServingRoles("otherop"), pg_roles.ServingRoles("ownop")
    pg.cluster.psql_superuser("create role otherop_operator nologin;")
    with psycopg.connect(life_url, autocommit=True) as conn, conn.cursor() as cur:
        pg_roles.ensure_base_roles(conn, "otherop-bi-pw", foreign)
        with pytest.raises(ValueError, match=r"'otherop_operator'.*not created by this"):
            pg_tenant_roles.ensure_groups(cur, foreign)
        pg_roles.ensure_base_roles(conn, "ownop-bi-pw", ours)
        pg_tenant_roles.ensure_groups(cur, ours)
        pg_tenant_roles.ensure_groups(cur, ours)  # again: recorded as ours, accepted
        assert _roles_named(conn, "ownop") >= {"ownop_operator"}


def test_where_readers_may_still_lock_a_publisher_that_cannot_revoke_warns_with_the_sql(
    pg, serving_db, docs, life_url, monkeypatch, capsys
):
    """An external server set up without `pg-start`: the functions are PUBLIC's again. The
    owner (no superuser) cannot revoke them, so its publish and `add-reader` say what a
    superuser must run once; run, it closes them. A superuser publisher revokes them itself."""
    reopen = "grant execute on function pg_advisory_lock(bigint), lo_create(oid) to public;"
    pg.cluster.psql_superuser(reopen, DATABASE)
    try:
        notes = [n for n in _publish(serving_db, life_url, docs, "w1").notes if "superuser" in n]
        assert len(notes) == 1, notes
        assert "1 advisory-lock functions" in notes[0] and "1 large-object" in notes[0]
        named = notes[0].split(f"connected to database {DATABASE}: ")[1]
        assert named == pg_functions.revoke_sql(OWNER)
        monkeypatch.setenv("MEDSPA_SERVING_URL", life_url)
        monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
        monkeypatch.setenv("WARNED_PW", "warned-pw-1")
        assert medspa(["serving", "add-reader", "life_warned", "--password-env", "WARNED_PW"]) == 0
        err = capsys.readouterr().err
        assert err.startswith("warning: readers may still execute") and named in err
        pg.cluster.psql_superuser(named, DATABASE)  # the note's SQL, as a superuser would
        assert not any("superuser" in n for n in _publish(serving_db, life_url, docs, "w2").notes)
        pg.cluster.psql_superuser(reopen + f"alter role {OWNER} superuser;", DATABASE)
        assert not any("superuser" in n for n in _publish(serving_db, life_url, docs, "w3").notes)
        with psycopg.connect(life_url, autocommit=True) as conn:
            assert pg_functions.exposed(conn.cursor(), ROLES.read) == []
    finally:
        pg.cluster.psql_superuser(
            f"alter role {OWNER} nosuperuser; {pg_functions.revoke_sql(OWNER)}", DATABASE
        )
