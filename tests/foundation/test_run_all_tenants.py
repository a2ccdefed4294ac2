"""`medspa run --all-tenants`: every tenant runs, a failing one stops no other, exit says so."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from medspa.cli import main
from medspa.commands import run_tenants

#: Stands in for one tenant's `medspa run`: records when it ran, fails for tenant `broken`.
_CHILD = """
import sys, time, pathlib
name, log = sys.argv[1], pathlib.Path(sys.argv[2])
start = time.time(); time.sleep(0.3)
with open(log, "a") as fh:
    fh.write(f"{name} {start} {time.time()}\\n")
sys.exit(1 if name == "broken" else 0)
"""


def _registry(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "tenants.yml"
    entries = "".join(f"  - name: {n}\n    landing: l/{n}\n    demo: true\n" for n in names)
    path.write_text("tenants:\n" + entries, encoding="utf-8")
    return path


@pytest.fixture
def fake_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "runs.log"
    monkeypatch.setattr(
        run_tenants,
        "tenant_command",
        lambda args, name, registry: [sys.executable, "-c", _CHILD, name, str(log)],
    )
    return log


def test_a_failing_tenant_does_not_stop_the_others(tmp_path, fake_runs, capsys):
    registry = _registry(tmp_path, ["a", "broken", "c"])
    data = tmp_path / "data"
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--data-dir", str(data)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert sorted(line.split()[0] for line in fake_runs.read_text().splitlines()) == [
        "a",
        "broken",
        "c",
    ]
    assert "2 of 3 tenants published, 1 failed" in out
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["a", "published"],
        ["broken", "failed/blocked"],
        ["c", "published"],
    ]
    # Each tenant's console output goes to its own folder, never another's.
    assert (data / "tenants" / "broken" / "logs" / "last_cli_run.txt").is_file()


def test_parallel_bounds_how_many_tenants_run_at_once(tmp_path, fake_runs):
    registry = _registry(tmp_path, ["a", "b", "c", "d"])
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--parallel", "2"]
    assert main([*argv, "--data-dir", str(tmp_path / "data")]) == 0
    spans = [tuple(map(float, line.split()[1:])) for line in fake_runs.read_text().splitlines()]
    moments = sorted({t for span in spans for t in span})
    busiest = max(sum(start <= t < end for start, end in spans) for t in moments)
    assert busiest == 2


def test_all_tenants_needs_a_registry(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MEDSPA_TENANTS_FILE", raising=False)
    assert main(["run", "--all-tenants", "--data-dir", str(tmp_path)]) == 2
    assert "needs a registry" in capsys.readouterr().err


def test_summary_names_wall_and_summed_time():
    outcomes = [
        run_tenants.TenantOutcome("a", 0, 10.0, Path("a.txt")),
        run_tenants.TenantOutcome("b", 2, 5.0, Path("b.txt")),
    ]
    text = run_tenants.summary_text(outcomes, wall_seconds=11.0)
    assert "b                        refused" in text
    assert text.endswith(
        "1 of 2 tenants published, 1 failed; wall 11.0 s (sum of tenant runs 15.0 s)"
    )


#: A tenant's run that stops as `medspa run` does on Ctrl-C (exit status 130).
_INTERRUPTIBLE_CHILD = """
import os, signal, sys, time, pathlib
# A process started in the background by a shell (`cmd &`, as CI may run the suite) inherits
# SIGINT ignored; a terminal's foreground run has Python's handler: set it as a terminal would.
signal.signal(signal.SIGINT, signal.default_int_handler)
name, pids = sys.argv[1], pathlib.Path(sys.argv[2])
with open(pids, "a") as fh:
    fh.write(f"{name} {os.getpid()}\\n")
try:
    time.sleep(30)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_stops_the_running_tenants_starts_no_other_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C in a terminal reaches the command and its running tenant alike (one process
    group); here both are sent SIGINT, as the terminal would."""
    pids = tmp_path / "pids"
    monkeypatch.setattr(
        run_tenants,
        "tenant_command",
        lambda args, name, registry: [sys.executable, "-c", _INTERRUPTIBLE_CHILD, name, str(pids)],
    )

    def ctrl_c() -> None:
        deadline = time.monotonic() + 20
        while not pids.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the child is asleep, the command waits on it
        # A terminal's Ctrl-C reaches both at once. Sent one after the other, the command's
        # own goes first: sent second, a loaded machine let it see the child end and start the
        # next tenant before its own Ctrl-C arrived (`b` published, a test race, not the
        # command's).
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(int(pids.read_text().split()[1]), signal.SIGINT)

    registry = _registry(tmp_path, ["a", "b", "c"])
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--parallel", "1"]
    # This process too may have inherited SIGINT ignored (see the child): as a terminal has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=ctrl_c, daemon=True).start()
        assert main([*argv, "--data-dir", str(tmp_path / "data")]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["a", "interrupted"],
        ["b", "not"],
        ["c", "not"],
    ]
    assert "0 of 3 tenants published, 1 failed, 2 not started (interrupted)" in out
    assert "no further tenant was started" in out
    assert pids.read_text().split()[0] == "a" and len(pids.read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (130, "interrupted"),
        (-9, "killed (SIGKILL)"),
        (3, "crashed (exit 3)"),
        (None, "not started"),
    ],
)
def test_each_way_a_tenants_run_ends_has_its_name(code, status):
    assert run_tenants.TenantOutcome("a", code, 1.0, Path("a.txt")).status == status


#: A tenant's run that stops as `medspa run` does on SIGTERM (Dagster's handler: status 130).
_TERMINABLE_CHILD = """
import os, signal, sys, time, pathlib
def stop(signum, frame):
    sys.exit(130)
signal.signal(signal.SIGTERM, stop)
name, pids = sys.argv[1], pathlib.Path(sys.argv[2])
with open(pids, "a") as fh:
    fh.write(f"{name} {os.getpid()}\\n")
time.sleep(30)
sys.exit(0)
"""

#: The command itself in a process of its own (SIGTERM is sent to its pid alone), its tenants'
#: runs replaced by `_TERMINABLE_CHILD`.
_COMMAND = """
import sys
from medspa.cli import main
from medspa.commands import run_tenants
child, pids = sys.argv[1], sys.argv[2]
run_tenants.tenant_command = lambda args, name, registry: [sys.executable, "-c", child, name, pids]
sys.exit(main(sys.argv[3:]))
"""


def test_sigterm_to_the_command_alone_stops_its_running_tenant_and_starts_no_other(
    tmp_path: Path,
):
    """`docker stop`, Kubernetes and `kill PID` signal the command, not its tenants' runs."""
    import subprocess

    pids = tmp_path / "pids"
    registry = _registry(tmp_path, ["a", "b", "c"])
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--parallel", "1"]
    argv += ["--data-dir", str(tmp_path / "data")]
    command = subprocess.Popen(
        [sys.executable, "-c", _COMMAND, _TERMINABLE_CHILD, str(pids), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The signal must reach the command while its first tenant runs: on a loaded CI machine
    # starting the command took longer than a minute once, and the signal came before it.
    deadline = time.monotonic() + 300
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids.exists(), "the first tenant's run never started"
    time.sleep(0.3)  # the child is asleep, the command waits on it
    command.send_signal(signal.SIGTERM)
    out, _ = command.communicate(timeout=120)

    assert command.returncode == 130, out
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["a", "interrupted"],
        ["b", "not"],
        ["c", "not"],
    ]
    assert "0 of 3 tenants published, 1 failed, 2 not started (interrupted)" in out
    assert len(pids.read_text().splitlines()) == 1  # only `a` ever started
    child = int(pids.read_text().split()[1])
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # ended (and reaped by the command), not orphaned asleep


def test_the_partitions_become_the_registrys_a_removed_tenant_loses_its_own(tmp_path, fake_runs):
    """Without the daemon (a cron line running --all-tenants) nothing else keeps the `tenant`
    partitions equal to the registry; a removed tenant's partition would keep it listed by
    every check that names tenants."""
    import dagster as dg

    from medspa.commands.run import using_dagster_home
    from orchestration.tenancy import TENANT_PARTITIONS

    data = tmp_path / "data"
    home = data / "dagster"
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["a", "gone"])
    registry = _registry(tmp_path, ["a", "b"])
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--data-dir", str(data)]
    assert main(argv) == 0
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions(TENANT_PARTITIONS.name)) == ["a", "b"]


def test_an_unattended_command_stopped_alerts_each_tenant_it_never_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Cron's `medspa run --all-tenants --unattended` stopped by its timeout: the tenant that
    was running reports its own run; each tenant never started had no run at all, so the
    command posts `failed` for it (nothing else ever would)."""
    from medspa.commands import run as run_command

    registry = _registry(tmp_path, ["a", "b", "c"])
    alerted: list[tuple[str, str]] = []
    monkeypatch.setattr(run_command, "sigterm_interrupts", lambda: None)  # not in pytest
    monkeypatch.setattr(
        run_command, "alert_crashed", lambda base, name, reason: alerted.append((name, reason))
    )

    def stopped_after_the_first(args, names, tenants_file, data_dirs):
        report = tmp_path / "report.txt"
        outcomes = [run_tenants.TenantOutcome("a", 130, 1.0, report)]
        outcomes += [run_tenants.TenantOutcome(n, None, 0.0, report) for n in ("b", "c")]
        raise run_tenants.TenantsInterrupted(outcomes)

    monkeypatch.setattr(run_tenants, "run_tenants", stopped_after_the_first)
    argv = ["run", "--tenants-file", str(registry), "--all-tenants", "--unattended"]
    assert main([*argv, "--data-dir", str(tmp_path / "data")]) == 130
    assert [name for name, _ in alerted] == ["b", "c"]
    assert all("stopped by a signal" in reason for _, reason in alerted)

    alerted.clear()  # a person's Ctrl-C of the same command posts nothing
    assert main([*argv[:-1], "--data-dir", str(tmp_path / "data")]) == 130
    assert alerted == []
