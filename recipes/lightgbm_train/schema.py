"""The `lightgbm_train` payload schema (JSON Schema draft 2020-12), its defaults, and the settings of one run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recipes.base import RecipeError

OPERATIONS: dict[str, str] = {
    "train": "Train on a seeded hold-out split (test_size); publish the model, report the validation metric",
    "cross_validate": "Deterministic K-fold cross-validation (stratified for classification); metric per fold, "
    "mean and std; publishes a model refit on all rows",
}
OBJECTIVES = ("regression", "binary", "multiclass")
#: objective -> the metrics that make sense for it; the first is the default
METRICS: dict[str, tuple[str, ...]] = {
    "regression": ("rmse", "mae"),
    "binary": ("binary_logloss", "auc"),
    "multiclass": ("multi_logloss", "multi_error"),
}
#: metric -> the objective it implies when `objective` is absent
METRIC_OBJECTIVE = {metric: objective for objective, metrics in METRICS.items() for metric in metrics}

DEFAULTS: dict[str, Any] = {
    "operation": "train",
    "seed": 42,
    "n_estimators": 200,
    "num_leaves": 31,
    "learning_rate": 0.05,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "test_size": 0.2,
    "folds": 5,
    "stratified": True,
}

_COMMON = (
    "dataset_ref",
    "target_column",
    "objective",
    "metric",
    "seed",
    "n_estimators",
    "num_leaves",
    "learning_rate",
    "feature_fraction",
    "bagging_fraction",
    "weight_column",
    "categorical_columns",
    "drop_columns",
    "row_limit",
    "stratified",
)
#: Fields each operation accepts besides `operation`; anything else is rejected so typos do not pass silently.
FIELDS: dict[str, tuple[str, ...]] = {"train": (*_COMMON, "test_size"), "cross_validate": (*_COMMON, "folds")}

_COLUMN = {"type": "string", "minLength": 1, "maxLength": 1000}
_COLUMNS = {"type": "array", "items": _COLUMN, "uniqueItems": True, "maxItems": 100_000}
_FRACTION = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
_PROPERTIES: dict[str, Any] = {
    "operation": {"enum": list(OPERATIONS)},
    "dataset_ref": {
        "description": "artifact id of the table: CSV, TSV, JSON Lines or Parquet (optionally gzip-compressed), "
        "detected from its content and file name; the first row of CSV/TSV is the header",
        "type": "string",
        "minLength": 1,
    },
    "target_column": {"description": "column to predict", **_COLUMN},
    "objective": {
        "description": "inferred when absent: from `metric` if given, else binary for a 2-valued target, "
        "multiclass for another non-numeric one, regression otherwise",
        "enum": list(OBJECTIVES),
    },
    "metric": {
        "description": "regression: rmse (default), mae; binary: binary_logloss (default), auc; "
        "multiclass: multi_logloss (default), multi_error",
        "enum": list(METRIC_OBJECTIVE),
    },
    "seed": {"description": "seeds the split and LightGBM", "type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "n_estimators": {"description": "boosting rounds", "type": "integer", "minimum": 1, "maximum": 20_000},
    "num_leaves": {"type": "integer", "minimum": 2, "maximum": 131_072},
    "learning_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "feature_fraction": {"description": "share of features sampled per tree", **_FRACTION},
    "bagging_fraction": {"description": "share of rows sampled per tree (bagging every round when < 1)", **_FRACTION},
    "test_size": {"description": "share of rows held out for validation", **_FRACTION, "exclusiveMaximum": 1},
    "folds": {"description": "number of folds", "type": "integer", "minimum": 2, "maximum": 20},
    "weight_column": {"description": "non-negative row weights (used in training and in the metric)", **_COLUMN},
    "categorical_columns": {
        "description": "columns to treat as categories; text columns are categorical anyway",
        **_COLUMNS,
    },
    "drop_columns": {"description": "columns that are not features", **_COLUMNS},
    "row_limit": {"description": "use only the first N rows", "type": "integer", "minimum": 1},
    "stratified": {"description": "stratify the split or folds by class (classification only)", "type": "boolean"},
}
for _name, _default in DEFAULTS.items():
    _PROPERTIES[_name]["default"] = _default


def _operation_rule(operation: str) -> dict[str, Any]:
    """What `operation` forbids; `train` also applies when `operation` is absent (its default)."""
    # `not` of an always-true schema rather than `false`: jsonschema drops the field's path from errors of a false
    # subschema, and its message quotes this one, so the 422 says why the field is refused.
    refused = {"not": {"description": f"not accepted by operation {operation!r}"}}
    forbidden = {f: refused for f in _PROPERTIES if f not in (*FIELDS[operation], "operation")}
    condition: dict[str, Any] = {"properties": {"operation": {"const": operation}}}
    if operation != DEFAULTS["operation"]:
        condition["required"] = ["operation"]
    return {"if": condition, "then": {"properties": forbidden}}


def _metric_rule(objective: str) -> dict[str, Any]:
    return {
        "if": {"properties": {"objective": {"const": objective}}, "required": ["objective"]},
        "then": {"properties": {"metric": {"enum": list(METRICS[objective])}}},
    }


PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "lightgbm_train payload",
    "description": "Train or cross-validate LightGBM on an immutable tabular dataset artifact. Deterministic for a "
    "given seed. Column names that only the data can check (absent columns, a non-numeric regression target) "
    "fail the task with a message naming them.",
    "type": "object",
    "required": ["dataset_ref", "target_column"],
    "properties": _PROPERTIES,
    "additionalProperties": False,
    "allOf": [*(_operation_rule(op) for op in OPERATIONS), *(_metric_rule(o) for o in OBJECTIVES)],
}

_MAX_ERRORS = 5


def validate_payload(payload: Any) -> None:
    """Raise RecipeError naming each offending field when `payload` does not match PAYLOAD_SCHEMA."""
    from jsonschema import Draft202012Validator  # deferred: listing recipes should not pay for it

    errors = sorted(
        Draft202012Validator(PAYLOAD_SCHEMA).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if not errors:
        return
    messages = []
    for error in errors[:_MAX_ERRORS]:
        field = "/".join(str(p) for p in error.absolute_path) or "payload"
        refused = error.validator == "not" and isinstance(error.validator_value, dict)
        messages.append(f"{field}: {error.validator_value.get('description') if refused else error.message}")
    if len(errors) > _MAX_ERRORS:
        messages.append(f"and {len(errors) - _MAX_ERRORS} more")
    raise RecipeError("; ".join(messages))


@dataclass(frozen=True)
class Settings:
    """A validated payload with its defaults filled in."""

    operation: str
    dataset_ref: str
    target_column: str
    objective: str | None
    metric: str | None
    seed: int
    n_estimators: int
    num_leaves: int
    learning_rate: float
    feature_fraction: float
    bagging_fraction: float
    test_size: float
    folds: int
    stratified: bool
    weight_column: str | None = None
    categorical_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    row_limit: int | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Settings:
        """Settings of a payload that passed `validate_payload`."""
        values = {**DEFAULTS, **payload}
        return cls(
            operation=values["operation"],
            dataset_ref=values["dataset_ref"],
            target_column=values["target_column"],
            objective=values.get("objective"),
            metric=values.get("metric"),
            seed=int(values["seed"]),
            n_estimators=int(values["n_estimators"]),
            num_leaves=int(values["num_leaves"]),
            learning_rate=float(values["learning_rate"]),
            feature_fraction=float(values["feature_fraction"]),
            bagging_fraction=float(values["bagging_fraction"]),
            test_size=float(values["test_size"]),
            folds=int(values["folds"]),
            stratified=bool(values["stratified"]),
            weight_column=values.get("weight_column"),
            categorical_columns=tuple(values.get("categorical_columns", ())),
            drop_columns=tuple(values.get("drop_columns", ())),
            row_limit=values.get("row_limit"),
        )
