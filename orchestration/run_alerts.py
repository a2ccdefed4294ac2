"""Tell a person when a tenant's run did not publish: a JSON POST to a webhook.

A nightly nobody watches must say when it needs someone. A run that was *blocked* (a blocking
check failed, so yesterday's numbers stay on every dashboard) or *failed* (a dbt error, a lost
worker, a killed process found by the next run) posts one message to
`MEDSPA_ALERT_WEBHOOK_URL` as soon as its run-log record exists: from `medspa run` for its own
run, from the run-log sensor for the runs Dagster launched (the schedule, the landing sensor,
the UI). A run that published after one that did not posts once more, that the tenant
recovered (`orchestration.tenant_status.unpublished_before` finds the run it recovered from),
so a channel that said "blocked" at 02:10 does not leave the owner wondering on Monday. A run
that published although a check of error severity failed (not a blocking one: a required
table's file refused, say, so its day is missing) posts that too. `medspa run` posts when it
cannot start a tenant at all (its key unusable: no Dagster run exists for a sensor to hear).
Other runs that published, and the runs `orchestration.run_events.failed_nightly` passes over
(stopped by a person, refused by the tenant's run lock, the UI's Materialize of a few assets)
post nothing.

The body carries `text` (one line a person can read: Slack's and Teams' incoming webhooks
show it as it is) and the record's fields for a machine: tenant, run id, status, the blocking
checks by name, counts. Like the run log, it never carries a value from the data. The URL is
a secret (a chat webhook's token is in its path): messages about the webhook name its host
only. Sending is best effort, after the run's record is saved: five seconds, one retry, then a
warning in the run's log; an alert that cannot be sent never changes the run's outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from orchestration.run_log import BLOCKED, FAILED, PUBLISHED, PUBLISHED_THEN_FAILED, RunRecord

#: Statuses a person must hear about: nothing new was published.
ALERT_STATUSES = (BLOCKED, FAILED)

#: Short: the run-log sensor posts inside an evaluation Dagster gives 60 s.
TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2.0


def webhook_host(url: str) -> str:
    """What may be printed of the webhook: its host (the path may hold a token)."""
    return urlsplit(url).hostname or "the webhook"


#: A published run some error-severity check failed in (not a blocking one): the dashboards
#: show data a check found wrong, e.g. a required table's file refused, its day missing.
PUBLISHED_WITH_FAILURES = "published_with_failures"
#: A run that published serving.duckdb, then failed at a later step (`PUBLISHED_THEN_FAILED`).
FAILED_AFTER_PUBLISHING = "published_then_failed"


def alert_status(record: RunRecord) -> str | None:
    """The alert `record` calls for, if any: blocked, failed, failed after publishing, or
    published with failures."""
    if record.status in ALERT_STATUSES:
        return record.status
    if record.status == PUBLISHED_THEN_FAILED:
        return FAILED_AFTER_PUBLISHING
    if record.status == PUBLISHED and record.checks_failed:
        return PUBLISHED_WITH_FAILURES
    return None


def alert_payload(tenant: str, record: RunRecord) -> dict[str, object]:
    """The JSON body for a run that did not publish, or published with failed checks."""
    if alert_status(record) == PUBLISHED_WITH_FAILURES:
        text = (
            f"medspa-warehouse: tenant {tenant!r}, run {record.run_id}: published, but "
            f"{record.checks_failed} check(s) of error severity failed (the run's checks in "
            "Dagster and the data-quality page name them): dashboards and BI show data they "
            "found wrong, e.g. a day of a table whose file was refused."
        )
        return _payload(text, tenant, record, status=PUBLISHED_WITH_FAILURES, blocked_by=None)
    if record.status == PUBLISHED_THEN_FAILED:
        text = (
            f"medspa-warehouse: tenant {tenant!r}, run {record.run_id}: published "
            "serving.duckdb, then a later step failed (the PostgreSQL publish or the site: the "
            "run's page in the Dagster UI says which; for a `medspa run`, also its data dir's "
            "logs/last_run.log). BI tools on PostgreSQL or the dashboards may still show the "
            "previous data."
        )
        return _payload(text, tenant, record, status=FAILED_AFTER_PUBLISHING, blocked_by=None)
    if record.status == BLOCKED:
        why = f"blocked by failed checks: {record.blocked_by or 'unnamed'}"
    else:
        why = (
            "failed before publishing (the run's page in the Dagster UI says where; for a "
            "`medspa run`, also its data dir's logs/last_run.log)"
        )
    text = (
        f"medspa-warehouse: tenant {tenant!r}, run {record.run_id}: {why}. Nothing new was "
        "published; dashboards and BI keep the last published data."
    )
    return _payload(text, tenant, record, status=record.status, blocked_by=record.blocked_by)


def recovery_payload(tenant: str, record: RunRecord, recovered_from: str) -> dict[str, object]:
    """The JSON body for a run that published after run `recovered_from` did not."""
    text = (
        f"medspa-warehouse: tenant {tenant!r} recovered: run {record.run_id} published after "
        f"run {recovered_from} did not. Dashboards and BI show new data again."
    )
    return _payload(text, tenant, record, status="recovered", recovered_from=recovered_from)


def _payload(text: str, tenant: str, record: RunRecord, **fields: object) -> dict[str, object]:
    """`text`, the record's fields a machine reads, and `fields` (status and its details)."""
    return {
        "text": text,
        "tenant": tenant,
        "run_id": record.run_id,
        **fields,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "finished_at": record.finished_at.isoformat(),
        "rows_loaded": record.rows_loaded,
        "checks_failed": record.checks_failed,
        "checks_warned": record.checks_warned,
    }


#: The status of a tenant `medspa run` did not start: its settings (its key) are unusable.
REFUSED = "refused"


def refused_payload(tenant: str, reason: str, at: dt.datetime) -> dict[str, object]:
    """The JSON body for a tenant whose run could not start (`reason` names a setting, never
    its value: the settings' errors are written that way)."""
    text = (
        f"medspa-warehouse: tenant {tenant!r} was not run: {reason}. Nothing was loaded or "
        "published; dashboards and BI keep the last published data."
    )
    return {
        "text": text,
        "tenant": tenant,
        "status": REFUSED,
        "reason": reason,
        "at": at.isoformat(),
    }


def send_refused_alert(
    url: str | None,
    tenant: str,
    reason: str,
    *,
    warn: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    payload: Callable[[str, str, dt.datetime], dict[str, object]] = refused_payload,
) -> bool:
    """Post that `tenant`'s run was refused before it started (no Dagster run exists, so no
    sensor can), or with `payload=crashed_payload` that it stopped on an error of its own;
    True when delivered. Never raises."""
    if not url:
        return False
    body = payload(tenant, reason, dt.datetime.now(dt.UTC))
    return _deliver(url, body, f"of tenant {tenant}", warn=warn, sleep=sleep)


def crashed_payload(tenant: str, reason: str, at: dt.datetime) -> dict[str, object]:
    """The JSON body for a `medspa run` that stopped on an error of its own (a full disk, a
    read-only data dir): it never reached the run log, so the run-log sensor cannot post it."""
    text = (
        f"medspa-warehouse: tenant {tenant!r}'s run stopped with an error: {reason}. "
        "Dashboards and BI keep the last data published before it; fix the cause and run again."
    )
    return {
        "text": text,
        "tenant": tenant,
        "status": "failed",
        "reason": reason,
        "at": at.isoformat(),
    }


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "medspa-warehouse"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()


def send_run_alert(
    url: str | None,
    tenant: str,
    record: RunRecord,
    *,
    warn: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Post the alert for `record` when it did not publish and a webhook is set; True when
    one was delivered. Never raises: a failure to deliver is passed to `warn`."""
    if not url or alert_status(record) is None:
        return False
    return _deliver(url, alert_payload(tenant, record), record.run_id, warn=warn, sleep=sleep)


def send_recovery_alert(
    url: str | None,
    tenant: str,
    record: RunRecord,
    recovered_from: Callable[[], str | None],
    *,
    warn: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Post that the tenant recovered when `record` published and `recovered_from()` (asked
    only then: it reads the run history) names the run before it that did not; True when one
    was delivered. Never raises: a failure to read the history or to deliver goes to `warn`."""
    if not url or record.status != PUBLISHED:
        return False
    try:
        previous = recovered_from()
    except Exception as exc:  # the history is read for a message: never fail the run over it
        warn(f"run {record.run_id}: not known whether it recovered ({type(exc).__name__})")
        return False
    if previous is None:
        return False
    payload = recovery_payload(tenant, record, previous)
    return _deliver(url, payload, record.run_id, warn=warn, sleep=sleep)


def _deliver(
    url: str,
    payload: dict[str, object],
    run_id: str,
    *,
    warn: Callable[[str], None],
    sleep: Callable[[float], None],
) -> bool:
    """POST `payload`, one retry; True when delivered, else False after a warning."""
    body = json.dumps(payload).encode("utf-8")
    for attempt in (1, 2):
        try:
            _post(url, body)
            return True
        except Exception as exc:  # an alert never fails the run: HTTP, DNS, TLS, a bad reply
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if attempt == 2:
                warn(
                    f"alert for run {run_id} not delivered to {webhook_host(url)} "
                    f"({type(exc).__name__}: {_without(url, str(reason))})"
                )
                return False
            sleep(RETRY_AFTER_SECONDS)
    return False


def _without(url: str, text: str) -> str:
    """`text` with the webhook's URL and path taken out (an error may quote them)."""
    path = urlsplit(url).path
    text = text.replace(url, webhook_host(url))
    return text.replace(path, "/...") if len(path) > 1 else text
