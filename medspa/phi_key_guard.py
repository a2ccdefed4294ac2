"""The pseudonymisation key a warehouse's models were built with, kept, so another is refused.

Every `patient_key` and `lead_key` is an HMAC under the key. A build under another key rebuilds
every model that holds one and changes every key in the marts: consistent (no orphan keys, the
KPIs equal), but BI joins saved on the old keys and exported patient lists stop matching, and
switching back swaps them all again. A secret mounted with a trailing newline, or the wrong
tenant's variable, does that as surely as a rotation. So the warehouse keeps a fingerprint of
the key its models were built with (`raw_meta.phi_key_in_use`: an HMAC of a fixed label under
the key, which reveals nothing of it), recorded by the first build (a run's dbt step records
it when the run's own ingest created the warehouse after its set-up), and every build after
refuses another key with `PhiKeyChangedError` before dbt starts (a run fails at its first step:
nothing loaded, rebuilt or published). A rotation on purpose is recorded first with `medspa
rekey` (`accept_key`), and the next run rebuilds under the new key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import duckdb

from medspa.settings import DEMO_PHI_KEY, PhiKeyError

SCHEMA = "raw_meta"
TABLE = "phi_key_in_use"
_LABEL = b"medspa phi_key_in_use"


class PhiKeyChangedError(PhiKeyError):
    """The key differs from the one the warehouse's models were built with."""


def fingerprint(key: str) -> str:
    """What is stored of `key`: an HMAC of a fixed label under it (not the key, nor a hash of
    it alone that a guess could be checked against without the label)."""
    return hmac.new(key.encode("utf-8"), _LABEL, hashlib.sha256).hexdigest()


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"create table if not exists {SCHEMA}.{TABLE} "
        "(fingerprint varchar not null, recorded_at timestamptz not null)"
    )


def check_key_in_use(warehouse_path: Path, key: str) -> None:
    """Refuse `key` when the warehouse's models were built with another; record it when the
    warehouse has no record yet (its first build, or a warehouse from before this guard).
    Call under the data dir's run lock (it writes); a missing warehouse has nothing to guard."""
    if not warehouse_path.exists():
        return
    with duckdb.connect(str(warehouse_path)) as con:
        _ensure_table(con)
        row = con.execute(f"select fingerprint, recorded_at from {SCHEMA}.{TABLE}").fetchone()
        if row is None:
            con.execute(
                f"insert into {SCHEMA}.{TABLE} values (?, ?)",
                [fingerprint(key), dt.datetime.now(dt.UTC)],
            )
            return
    if not hmac.compare_digest(row[0], fingerprint(key)):
        recorded = row[1].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        if hmac.compare_digest(row[0], fingerprint(DEMO_PHI_KEY)):
            # A first run without a key (it warned) built the warehouse under the public key:
            # the usual cause, and the one case where moving to the new key is what is wanted.
            raise PhiKeyChangedError(
                f"this warehouse's models were built with the public demo key (recorded "
                f"{recorded}: MEDSPA_PHI_KEY, or the tenant's key variable, was unset then), "
                "and now another key is set. Pseudonyms under the public key protect nothing: "
                "run `medspa rekey` (with the same --tenant / --data-dir) once to build every "
                "patient_key and lead_key under the key now set, then run again; nothing was "
                "changed"
            )
        raise PhiKeyChangedError(
            f"the pseudonymisation key is not the one this warehouse's models were built with "
            f"(recorded {recorded}): building with it would change every patient_key and "
            "lead_key, so saved BI joins and exported patient lists would stop matching. A "
            "secret mounted with a trailing newline or space, or another tenant's variable, "
            "does this. If the key was rotated on purpose, run `medspa rekey` (with the same "
            "--tenant / --data-dir) once, then run again; nothing was changed"
        )


def accept_key(warehouse_path: Path, key: str) -> dt.datetime | None:
    """Record `key` as the warehouse's key (a rotation on purpose); returns when the previous
    key was recorded, None when there was none. Call under the data dir's run lock."""
    with duckdb.connect(str(warehouse_path)) as con:
        _ensure_table(con)
        row = con.execute(f"select recorded_at from {SCHEMA}.{TABLE}").fetchone()
        con.execute(f"delete from {SCHEMA}.{TABLE}")
        con.execute(
            f"insert into {SCHEMA}.{TABLE} values (?, ?)",
            [fingerprint(key), dt.datetime.now(dt.UTC)],
        )
    return None if row is None else row[0]
