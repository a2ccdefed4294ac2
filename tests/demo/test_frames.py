"""The generator's frame helpers give what pandas gives, with less memory."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.frames import ids, numbers_within, sort_rows


def _invoice_lines() -> pd.DataFrame:
    """Ids of the POS's three kinds (visit, membership, walk-in), repeated and out of order,
    with several lines per invoice and equal (id, line kind) pairs whose order must hold."""
    invoice = ["INV-R20260101-03-01", "INV-A00000010", "INV-M0000002-001", "INV-A00000002"]
    rows = [(invoice[i % 4], k, i) for i, k in enumerate([3, 1, 2, 1, 1, 4, 1, 2, 1, 3, 1, 1])]
    return pd.DataFrame(rows, columns=["invoice_id", "_k", "seen"])


def test_sort_rows_is_pandas_stable_multi_key_sort() -> None:
    df = _invoice_lines()
    expected = df.sort_values(["invoice_id", "_k"], kind="stable", ignore_index=True)
    got = sort_rows(df, ["invoice_id", "_k"])
    pd.testing.assert_frame_equal(got, expected)
    # Worked by hand: INV-A00000002 (rows 3, 7, 11 with kinds 1, 2, 1) comes first, kind 1
    # before kind 2 and, within kind 1, row 3 before row 11.
    assert list(got["seen"][:3]) == [3, 11, 7]


def test_numbers_within_counts_each_run_of_a_sorted_column() -> None:
    sorted_lines = sort_rows(_invoice_lines(), ["invoice_id", "_k"])
    got = numbers_within(sorted_lines["invoice_id"])
    assert list(got) == list(sorted_lines.groupby("invoice_id").cumcount() + 1)
    assert list(got) == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]
    assert list(numbers_within(pd.Series([], dtype="str"))) == []
    assert list(numbers_within(pd.Series(["x"]))) == [1]


def test_ids_share_one_string_per_distinct_number() -> None:
    got = ids("PRV", np.array([7, 2, 7, 7]), 4)
    assert list(got) == ["PRV0007", "PRV0002", "PRV0007", "PRV0007"]
    assert got[0] is got[2] is got[3]
    assert list(ids("PRV", np.array([], dtype=np.int64), 4)) == []
