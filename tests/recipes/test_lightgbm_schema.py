"""The `lightgbm_train` payload schema: what the controller rejects at submit (422) and names."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

import recipes
from recipes.base import RecipeError
from recipes.lightgbm_train import RECIPE
from recipes.lightgbm_train.schema import DEFAULTS, Settings, validate_payload

BASE = {"dataset_ref": "art_data", "target_column": "y"}


def _fields_in_error(payload):
    errors = Draft202012Validator(RECIPE.payload_schema).iter_errors(payload)
    return sorted("/".join(map(str, e.absolute_path)) for e in errors)


def test_the_schema_is_valid_and_accepts_a_minimal_payload_and_the_examples():
    Draft202012Validator.check_schema(RECIPE.payload_schema)

    assert _fields_in_error(BASE) == []
    assert _fields_in_error({**BASE, "operation": "cross_validate", "folds": 3, "stratified": False}) == []
    for example in RECIPE.examples:
        assert _fields_in_error(example) == []


def test_every_field_of_the_issue_is_accepted():
    payload = {
        **BASE,
        "operation": "train",
        "objective": "binary",
        "metric": "auc",
        "seed": 1,
        "n_estimators": 10,
        "num_leaves": 7,
        "learning_rate": 0.1,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.7,
        "test_size": 0.25,
        "weight_column": "w",
        "categorical_columns": ["c"],
        "drop_columns": ["id"],
        "row_limit": 100,
        "stratified": True,
    }

    assert _fields_in_error(payload) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"objective": "ranking"}, "objective"),
        ({"metric": "ndcg"}, "metric"),
        ({"objective": "regression", "metric": "auc"}, "metric"),
        ({"objective": "binary", "metric": "multi_error"}, "metric"),
        ({"objective": "multiclass", "metric": "rmse"}, "metric"),
        ({"seed": -1}, "seed"),
        ({"n_estimators": 0}, "n_estimators"),
        ({"num_leaves": 1}, "num_leaves"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"feature_fraction": 1.5}, "feature_fraction"),
        ({"bagging_fraction": 0}, "bagging_fraction"),
        ({"test_size": 1}, "test_size"),
        ({"test_size": 0}, "test_size"),
        ({"categorical_columns": ["a", "a"]}, "categorical_columns"),
        ({"drop_columns": "id"}, "drop_columns"),
        ({"weight_column": ""}, "weight_column"),
        ({"row_limit": 0}, "row_limit"),
        ({"stratified": "yes"}, "stratified"),
        ({"target_column": 3}, "target_column"),
        ({"learning_rates": 0.1}, ""),
    ],
)
def test_a_bad_field_is_named(change, field):
    assert _fields_in_error({**BASE, **change}) == [field]


@pytest.mark.parametrize("missing", ["dataset_ref", "target_column"])
def test_a_required_field_is_required(missing):
    with pytest.raises(RecipeError, match=f"'{missing}' is a required property"):
        validate_payload({k: v for k, v in BASE.items() if k != missing})


def test_each_operation_refuses_the_other_operations_field():
    # folds belongs to cross_validate, also when train is the default operation
    assert _fields_in_error({**BASE, "folds": 3}) == ["folds"]
    assert _fields_in_error({**BASE, "operation": "cross_validate", "test_size": 0.3}) == ["test_size"]
    assert _fields_in_error({**BASE, "operation": "cross_validate", "folds": 1}) == ["folds"]
    with pytest.raises(RecipeError, match="folds: not accepted by operation 'train'"):
        validate_payload({**BASE, "folds": 3})


def test_settings_fill_in_the_documented_defaults():
    settings = Settings.from_payload(dict(BASE))

    assert (settings.operation, settings.seed, settings.n_estimators, settings.num_leaves) == ("train", 42, 200, 31)
    assert (settings.learning_rate, settings.feature_fraction, settings.bagging_fraction) == (0.05, 1.0, 1.0)
    assert (settings.test_size, settings.folds, settings.stratified) == (0.2, 5, True)
    assert (settings.objective, settings.metric, settings.weight_column, settings.row_limit) == (None,) * 4
    assert DEFAULTS["operation"] == "train"


def test_the_recipe_is_registered_and_needs_no_capability():
    assert "recipes.lightgbm_train" in recipes.RECIPE_MODULES
    assert RECIPE.name == "lightgbm_train" and RECIPE.requires == () and RECIPE.operation_requires == {}
    assert RECIPE.artifact_inputs == ("dataset_ref",)
    assert set(RECIPE.operations) == {"train", "cross_validate"}
