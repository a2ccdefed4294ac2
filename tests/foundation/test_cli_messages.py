"""What the `medspa` commands say to a person: errors that name the fix, checks that say they
passed, help text for every sub-command and option. Through `medspa.cli.main`, as typed."""

from __future__ import annotations

from collections import Counter

import pytest

from medspa.cli import main
from medspa.commands.transform import build_report


def test_a_selection_that_matches_nothing_fails():
    lines, code = build_report(True, Counter(), [], ["nonexistent_model"])
    assert code == 2
    assert lines == [
        "error: --select nonexistent_model matches no dbt model, seed, snapshot or test "
        "(a typo? a model is named after its .sql file under dbt_project/models)"
    ]


def test_a_selection_that_ran_reports_its_statuses():
    lines, code = build_report(True, Counter({"success": 3, "pass": 5}), [], ["stg_pms__rooms+"])
    assert (lines, code) == (["dbt build: ok (pass=5, success=3)"], 0)
    failed = build_report(
        False, Counter({"success": 1, "fail": 1}), ["test.medspa.x"], ["stg_pms__rooms+"]
    )
    assert failed == (["dbt build: FAILED (fail=1, success=1)", "  failed: test.medspa.x"], 1)


def test_a_failed_dbt_with_nothing_run_stays_a_failure_not_a_typo():
    # dbt refused the selection's syntax: its own error says why, status 1 as for any failure
    assert build_report(False, Counter(), [], ["tag:"]) == (["dbt build: FAILED (nothing ran)"], 1)


def test_an_impossible_end_date_says_the_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--out", str(tmp_path), "--end-date", "2026-13-01"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "medspa generate: error: argument --end-date: must be a date YYYY-MM-DD, not '2026-13-01'"
    )
    assert not any(tmp_path.iterdir())


def test_contract_check_says_it_passed(capsys):
    assert main(["contract", "check"]) == 0
    assert capsys.readouterr().out == "contract: dbt sources match ingestion/contract.yml\n"


def test_docs_check_says_it_passed(capsys):
    assert main(["docs", "--check"]) == 0
    assert capsys.readouterr().out == "docs: up to date\n"


def test_docs_names_a_kpi_without_a_definition_in_one_line(capsys, monkeypatch):
    """A seeded KPI whose definition is missing: one `error:` line, not a traceback."""
    import docs.generate

    def refuse(*_args, **_kwargs):
        raise ValueError("KPIs without a definition in _kpi__models.yml: ['new_kpi']")

    monkeypatch.setattr(docs.generate, "render_docs", refuse)
    assert main(["docs", "--check"]) == 2
    assert capsys.readouterr().err == (
        "error: KPIs without a definition in _kpi__models.yml: ['new_kpi']\n"
    )


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("pg-start", "Start the local PostgreSQL serving cluster under <data-dir>/pg"),
        ("add-reader", "The password is read from the variable --password-env names"),
        ("remove-reader", "Drop a reader add-reader created"),
    ],
)
def test_every_serving_action_has_its_own_help(capsys, action, says):
    assert says in _help(capsys, "serving", action)


def test_seed_help_names_its_default(capsys):
    text = _help(capsys, "generate")
    assert "--seed SEED random seed: the same seed writes the same chain" in text
    assert "(default 20261115)" in text
    assert "--end-date YYYY-MM-DD" in text


def test_rekey_help_says_what_a_rotation_takes(capsys):
    """The README sends people to `medspa rekey --help` before a rotation: it said one line."""
    with pytest.raises(SystemExit):
        main(["rekey", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "set the new key in the variable the runs read" in text
    assert "the next run rebuilds every model that holds a key" in text
