"""The columnar record store: growth across chunk boundaries, categorical round trip, and the frame it builds
against a row-by-row construction; the run's records come out in (policy, replication, task) order."""

from random import Random

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from simulator.builders import s100_world
from simulator.records import ColumnStore, categorical, numeric
from simulator.result import RECORD_COLUMNS, DropReason
from simulator.run import run

COLOURS = ("red", "green", "blue")


def _store(chunk_rows: int) -> ColumnStore:
    return ColumnStore([numeric("x", np.float64), numeric("n", np.int64), numeric("flag", np.bool_),
                        categorical("colour", COLOURS)], chunk_rows=chunk_rows)


def test_appending_across_chunk_boundaries_keeps_every_row_and_grows_by_whole_chunks() -> None:
    store = _store(chunk_rows=4)
    for start in range(0, 11, 3):  # blocks of 3 rows straddle the 4-row chunks
        rows = np.arange(start, min(start + 3, 11))
        store.write(rows, {"x": rows * 0.5, "n": rows, "flag": rows % 2 == 0, "colour": rows % 3})
        assert len(store) == rows[-1] + 1
        assert store.capacity % 4 == 0
        assert store.capacity >= len(store)
    arrays = store.to_arrays()
    np.testing.assert_array_equal(arrays["n"], np.arange(11))
    np.testing.assert_array_equal(arrays["x"], np.arange(11) * 0.5)
    np.testing.assert_array_equal(arrays["flag"], np.arange(11) % 2 == 0)
    assert len(store) == 0


def test_rows_written_out_of_order_land_at_their_row_numbers() -> None:
    store = _store(chunk_rows=2)
    store.write(np.array([5, 1]), {"x": [5.0, 1.0], "n": [5, 1], "flag": True, "colour": 0})
    store.write(np.array([0, 4, 2, 3]), {"x": [0.0, 4.0, 2.0, 3.0], "n": [0, 4, 2, 3], "flag": False, "colour": 1})
    arrays = store.to_arrays()
    np.testing.assert_array_equal(arrays["n"], np.arange(6))
    np.testing.assert_array_equal(arrays["x"], np.arange(6.0))
    np.testing.assert_array_equal(arrays["flag"], [False, True, False, False, False, True])


def test_categorical_columns_round_trip_through_their_codes() -> None:
    store = _store(chunk_rows=3)
    codes = np.array([2, 0, -1, 1, 2, 2, 0])
    store.write(np.arange(codes.size), {"x": 0.0, "n": 0, "flag": False, "colour": codes})
    colour = store.to_frame()["colour"]
    assert list(colour.cat.categories) == list(COLOURS)
    assert colour.isna().tolist() == [False, False, True, False, False, False, False]
    assert colour.astype(object).fillna("-").tolist() == ["blue", "red", "-", "green", "blue", "blue", "red"]


def test_codes_take_the_smallest_integer_type_that_counts_the_categories() -> None:
    assert categorical("c", [str(i) for i in range(100)]).dtype == np.int8
    assert categorical("c", [str(i) for i in range(300)]).dtype == np.int16
    reasons = [reason.value for reason in DropReason]
    store = ColumnStore([categorical("drop_reason", reasons)])
    store.write(np.arange(4), {"drop_reason": np.arange(4)})
    assert store.to_frame()["drop_reason"].astype(str).tolist() == ["", "server_queue_full", "local_queue_full",
                                                                    "deadline_expired"]


@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**62, 2**62),
                          st.booleans(), st.sampled_from(COLOURS)), max_size=40),
       st.integers(1, 6), st.integers(1, 7), st.randoms(use_true_random=False))
def test_the_frame_equals_one_built_row_by_row(rows: list[tuple[float, int, bool, str]], chunk_rows: int,
                                               block: int, random: Random) -> None:
    order = list(range(len(rows)))
    random.shuffle(order)
    store = _store(chunk_rows)
    for start in range(0, len(order), block):
        at = np.array(order[start:start + block], dtype=np.intp)
        picked = [rows[i] for i in at]
        store.write(at, {"x": [r[0] for r in picked], "n": [r[1] for r in picked], "flag": [r[2] for r in picked],
                         "colour": [COLOURS.index(r[3]) for r in picked]})
    frame = store.to_frame()
    expected = pd.DataFrame([{"x": x, "n": n, "flag": flag, "colour": colour} for x, n, flag, colour in rows],
                            columns=["x", "n", "flag", "colour"])
    expected = expected.astype({"x": np.float64, "n": np.int64, "flag": np.bool_,
                                "colour": pd.CategoricalDtype(list(COLOURS))})
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)


def test_a_runs_records_are_every_task_of_each_policy_and_replication_once_in_task_order() -> None:
    result = run(s100_world(12, 3), duration_s=30.0, seed=4, replications=3,
                 policies=["always_edge", "always_local", "random"])
    records = result.records
    assert list(records.columns) == list(RECORD_COLUMNS)
    assert list(records["policy"].cat.categories) == ["always_edge", "always_local", "random"]
    keys = list(zip(records["policy"].cat.codes, records["replication"], strict=True))
    assert keys == sorted(keys)  # policy by policy, replication by replication
    groups = records.groupby(["policy", "replication"], observed=True, sort=False)["task_id"]
    assert groups.ngroups == 9
    for _, task_ids in groups:
        np.testing.assert_array_equal(task_ids, np.arange(len(task_ids)))
    for policy, summary in result.summary["policies"].items():
        assert (records["policy"] == policy).sum() == summary["tasks"]["generated"]
