"""Dataset artifacts (format detection, reading, hashing), model inputs from a table, and seeded splits."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pandas as pd
import pytest

from recipes.base import RecipeError
from recipes.lightgbm_train.dataset import Format, detect_format, load_dataset, read_frame
from recipes.lightgbm_train.features import prepare
from recipes.lightgbm_train.schema import Settings
from recipes.lightgbm_train.splits import holdout, kfold

FRAME = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "city": ["b", "a", "b", "c"], "y": [0, 1, 0, 1]})


def _write(frame: pd.DataFrame, path, fmt: str, compress: bool = False):
    if fmt == "parquet":
        frame.to_parquet(path)
        return path
    if fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True)
    else:
        text = frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


def _settings(**fields):
    return Settings.from_payload({"dataset_ref": "art", "target_column": "y", **fields})


@pytest.mark.parametrize(
    ("fmt", "compress"),
    [
        ("csv", False),
        ("csv", True),
        ("tsv", False),
        ("tsv", True),
        ("jsonl", False),
        ("jsonl", True),
        ("parquet", False),
    ],
)
def test_each_format_is_detected_from_content_alone_and_read_back(tmp_path, fmt, compress):
    # Given a file with no telling name
    path = _write(FRAME, tmp_path / "art_0123", fmt, compress)

    # When it is loaded
    dataset = load_dataset(path)

    # Then the format is found and the table is the one written
    assert dataset.format == Format(fmt, "gzip" if compress else None)
    pd.testing.assert_frame_equal(dataset.frame, FRAME, check_dtype=False)
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dataset.size_bytes == path.stat().st_size


def test_json_lines_values_are_kept_as_written(tmp_path):
    # pandas would otherwise turn a column named like a date (`*_at`) into timestamps
    (tmp_path / "d.jsonl").write_text('{"updated_at": 1700000000, "y": 1}\n{"updated_at": 1700000001, "y": 0}\n')

    frame = load_dataset(tmp_path / "d.jsonl").frame

    assert frame["updated_at"].tolist() == [1700000000, 1700000001]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_row_limit_reads_only_the_first_rows(tmp_path, fmt):
    path = _write(FRAME, tmp_path / f"d.{fmt}", fmt)

    frame = read_frame(path, detect_format(path), row_limit=2)

    assert frame["x"].tolist() == [1.5, 2.5]


def test_the_file_name_decides_between_csv_and_tsv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a\tb,c\n1\t2,3\n")  # more tabs than commas, but named .csv

    assert detect_format(path) == Format("csv")
    assert detect_format(_write(FRAME, tmp_path / "data.tsv.gz", "tsv", compress=True)) == Format("tsv", "gzip")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("d.csv", b"", "empty"),
        ("d", b"\x00\x01\x02binary", "binary but not Parquet"),
        ("d.json", b'[{"a": 1}]', "JSON Lines"),
        ("d.parquet", b"a,b\n1,2\n", "Parquet magic"),
        ("d.jsonl", b"a,b\n1,2\n", "not a JSON object"),
        ("d.gz", b"\x1f\x8b\x08\x00broken", "cannot be decompressed"),
    ],
)
def test_an_unusable_file_is_rejected_with_a_reason(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)

    with pytest.raises(RecipeError, match=message):
        load_dataset(tmp_path / name)


def test_a_file_that_breaks_its_format_is_a_clear_error(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"a": 1}\n{"a": \n')
    (tmp_path / "d.parquet").write_bytes(b"PAR1 not really parquet")

    for name, fmt in (("d.jsonl", "jsonl"), ("d.parquet", "parquet")):
        with pytest.raises(RecipeError, match=f"cannot read the dataset as {fmt}"):
            load_dataset(tmp_path / name)


def test_text_columns_become_sorted_categories_and_listed_numeric_columns_too():
    table = prepare(FRAME.assign(code=[3, 1, 3, 2]), _settings(categorical_columns=["code"]))

    assert table.categorical == ("city", "code")
    assert list(table.features["city"].cat.categories) == ["a", "b", "c"]
    assert list(table.features["code"].cat.categories) == [1, 2, 3]
    assert table.features["x"].dtype == np.float64


@pytest.mark.parametrize(
    ("target", "fields", "objective", "classes"),
    [
        (["no", "yes", "no", "yes"], {}, "binary", ["no", "yes"]),
        (["a", "b", "c", "a"], {}, "multiclass", ["a", "b", "c"]),
        ([0.5, 1.5, 2.5, 9.0], {}, "regression", None),
        ([0, 1, 2, 1], {"metric": "multi_error"}, "multiclass", [0, 1, 2]),
        ([0, 1, 0, 1], {"objective": "regression"}, "regression", None),
    ],
)
def test_the_objective_is_inferred_from_the_target_or_the_metric(target, fields, objective, classes):
    table = prepare(FRAME.assign(y=target), _settings(**fields))

    assert (table.objective, table.classes, table.objective_inferred) == (objective, classes, "objective" not in fields)
    if classes:
        assert table.label.tolist() == [classes.index(v) for v in target]


@pytest.mark.parametrize(
    ("fields", "frame", "message"),
    [
        (
            {"target_column": "price"},
            FRAME,
            "target_column names absent column\\(s\\) 'price'.*columns: 'x', 'city', 'y'",
        ),
        ({"categorical_columns": ["zip", "city"]}, FRAME, "categorical_columns names absent column\\(s\\) 'zip'"),
        (
            {"drop_columns": ["id"], "weight_column": "w"},
            FRAME,
            "weight_column names absent.*drop_columns names absent",
        ),
        ({"drop_columns": ["y"]}, FRAME, "must not name the target"),
        ({"categorical_columns": ["x"], "drop_columns": ["x"]}, FRAME, "both categorical and dropped"),
        ({"objective": "regression"}, FRAME.assign(y=list("abab")), "must be numeric for objective 'regression'"),
        ({"objective": "binary"}, FRAME.assign(y=[0, 1, 2, 0]), "exactly 2 distinct values.*found 3"),
        ({"weight_column": "x"}, FRAME.assign(x=[1.0, -1.0, 1.0, 1.0]), "non-negative"),
        ({"weight_column": "city"}, FRAME, "weight_column 'city' must be numeric"),
        ({}, FRAME.assign(when=pd.to_datetime(["2024-01-01"] * 4)), "'when' holds dates"),
        ({}, FRAME.rename(columns={"x": "price[usd]"}), "LightGBM refuses feature names.*price\\[usd\\]"),
        ({"drop_columns": ["x", "city"]}, FRAME, "no feature columns left"),
        ({}, FRAME.assign(y=[None] * 4), "is empty"),
        ({"objective": "multiclass"}, FRAME.assign(y=[1, 1, 1, 1]), "single value"),
    ],
)
def test_unusable_columns_are_named(fields, frame, message):
    with pytest.raises(RecipeError, match=message):
        prepare(frame, _settings(**fields))


def test_rows_with_a_missing_target_are_dropped_and_counted():
    table = prepare(FRAME.assign(y=[1.0, None, 3.0, 4.0]), _settings())

    assert table.rows_dropped == 1 and table.label.tolist() == [1.0, 3.0, 4.0]
    assert table.features["x"].tolist() == [1.5, 3.5, 4.5]


def test_the_holdout_is_seeded_disjoint_and_stratified():
    strata = np.array([0] * 80 + [1] * 20)

    train, valid = holdout(100, 0.25, seed=7, strata=strata)

    assert len(valid) == 25 and (strata[valid] == 1).sum() == 5
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(100))
    assert np.array_equal(valid, holdout(100, 0.25, seed=7, strata=strata)[1])
    assert not np.array_equal(valid, holdout(100, 0.25, seed=8, strata=strata)[1])


def test_a_holdout_that_would_be_empty_is_refused():
    with pytest.raises(RecipeError, match="empty training or validation split"):
        holdout(3, 0.1, seed=0)


def test_folds_partition_the_rows_and_balance_each_class():
    strata = np.array([0] * 30 + [1] * 12 + [2] * 3)

    folds = kfold(45, 3, seed=1, strata=strata)

    assert sorted(np.concatenate(folds).tolist()) == list(range(45))
    assert [len(f) for f in folds] == [15, 15, 15]
    assert [(strata[f] == 1).sum() for f in folds] == [4, 4, 4]
    assert [(strata[f] == 2).sum() for f in folds] == [1, 1, 1]
    assert all(np.array_equal(a, b) for a, b in zip(folds, kfold(45, 3, seed=1, strata=strata), strict=True))


def test_more_folds_than_rows_is_refused():
    with pytest.raises(RecipeError, match="folds=5 needs at least 5 rows"):
        kfold(4, 5, seed=0)
