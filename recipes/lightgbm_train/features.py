"""From a raw table to model inputs: checked column names, the objective, encoded labels, weights, categories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recipes.base import RecipeError
from recipes.lightgbm_train.schema import METRIC_OBJECTIVE, METRICS, Settings

#: Characters LightGBM refuses in feature names (they would break its JSON model dump).
FORBIDDEN_NAME_CHARS = frozenset('",:[]{}')
#: A multiclass target with more distinct values than this is almost surely a regression target.
MAX_CLASSES = 1000
_SHOWN = 20


@dataclass(frozen=True)
class Table:
    """Model inputs of one dataset, rows in file order (rows with a missing target removed)."""

    features: pd.DataFrame
    label: np.ndarray
    weight: np.ndarray | None
    objective: str
    objective_inferred: bool
    classes: list[Any] | None
    categorical: tuple[str, ...]
    rows_dropped: int

    @property
    def strata(self) -> np.ndarray | None:
        """Class labels to stratify by, or None for regression."""
        return None if self.objective == "regression" else self.label


def _listing(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def check_columns(columns: list[str], settings: Settings) -> None:
    """Every named column exists and plays one role.

    Raises:
        RecipeError: naming each absent column and each conflict.
    """
    present = set(columns)
    problems = []
    for field, names in (
        ("target_column", [settings.target_column]),
        ("weight_column", [settings.weight_column] if settings.weight_column else []),
        ("categorical_columns", list(settings.categorical_columns)),
        ("drop_columns", list(settings.drop_columns)),
    ):
        absent = [n for n in names if n not in present]
        if absent:
            problems.append(f"{field} names absent column(s) {_listing(absent)}")
    special = {settings.target_column, *([settings.weight_column] if settings.weight_column else [])}
    for field, listed in (
        ("categorical_columns", settings.categorical_columns),
        ("drop_columns", settings.drop_columns),
    ):
        clash = sorted(special & set(listed))
        if clash:
            problems.append(f"{field} must not name the target or weight column ({_listing(clash)})")
    both = sorted(set(settings.categorical_columns) & set(settings.drop_columns))
    if both:
        problems.append(f"columns both categorical and dropped: {_listing(both)}")
    if settings.weight_column and settings.weight_column == settings.target_column:
        problems.append("weight_column must differ from target_column")
    if problems:
        raise RecipeError("; ".join(problems) + f" (dataset columns: {_listing(columns)})")


def infer_objective(target: pd.Series, metric: str | None) -> str:
    """The objective a target implies: the metric's, else binary for 2 values, else by dtype."""
    if metric:
        return METRIC_OBJECTIVE[metric]
    if target.nunique() == 2:
        return "binary"
    return "regression" if pd.api.types.is_numeric_dtype(target) else "multiclass"


def _sorted_values(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types: order by type, then by text
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def encode_label(target: pd.Series, objective: str) -> tuple[np.ndarray, list[Any] | None]:
    """Float labels for regression; class indices 0..K-1 (classes sorted) for classification.

    Raises:
        RecipeError: a non-numeric regression target, or a class count the objective cannot fit.
    """
    if objective == "regression":
        if pd.api.types.is_bool_dtype(target) or not pd.api.types.is_numeric_dtype(target):
            sample = _listing([str(v) for v in target.unique()[:3]])
            raise RecipeError(
                f"target_column {target.name!r} must be numeric for objective 'regression' (values like {sample}); "
                "use objective binary or multiclass for labels"
            )
        label = target.to_numpy(dtype=np.float64)
        if not np.isfinite(label).all():
            raise RecipeError(f"target_column {target.name!r} holds infinite values")
        return label, None
    classes = _sorted_values(list(target.unique()))
    if objective == "binary" and len(classes) != 2:
        raise RecipeError(
            f"objective 'binary' needs exactly 2 distinct values in target_column {target.name!r}; found "
            f"{len(classes)}" + (f" ({_listing([str(c) for c in classes])})" if len(classes) <= _SHOWN else "")
        )
    if len(classes) < 2:
        raise RecipeError(f"target_column {target.name!r} has a single value; nothing to classify")
    if len(classes) > MAX_CLASSES:
        raise RecipeError(
            f"target_column {target.name!r} has {len(classes)} distinct values; multiclass supports at most "
            f"{MAX_CLASSES} (use objective regression for a numeric target)"
        )
    index = {c: i for i, c in enumerate(classes)}
    return target.map(index).to_numpy(dtype=np.int64), [_plain(c) for c in classes]


def weights(column: pd.Series) -> np.ndarray:
    """Row weights: numeric, finite, non-negative, not all zero.

    Raises:
        RecipeError: naming the weight column and what is wrong.
    """
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise RecipeError(f"weight_column {column.name!r} must be numeric")
    values = column.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        raise RecipeError(f"weight_column {column.name!r} must be finite, non-negative and not all zero")
    return values


def _categorical(column: pd.Series) -> pd.Categorical:
    """Categories sorted by value, so codes (and the model) do not depend on row order."""
    values = column.dropna().unique()
    if any(isinstance(v, dict | list | tuple | set) for v in values):
        raise RecipeError(f"column {column.name!r} holds nested values; flatten it or list it in drop_columns")
    return pd.Categorical(column, categories=_sorted_values(list(values)))


def feature_frame(frame: pd.DataFrame, listed: tuple[str, ...]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Feature columns with every listed or non-numeric column as a pandas Categorical.

    Raises:
        RecipeError: a name LightGBM refuses, or a date/time column.
    """
    bad = [c for c in frame.columns if FORBIDDEN_NAME_CHARS & set(c)]
    if bad:
        raise RecipeError(
            f"LightGBM refuses feature names containing any of {''.join(sorted(FORBIDDEN_NAME_CHARS))}: "
            f"{_listing(bad)}; rename them or list them in drop_columns"
        )
    out, categorical = {}, []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
            raise RecipeError(f"column {name!r} holds dates or durations; convert it to numbers or drop it")
        numeric = pd.api.types.is_numeric_dtype(column)  # bool counts as numeric: LightGBM takes it as 0/1
        if name in listed or not numeric:
            out[name] = _categorical(column)
            categorical.append(name)
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index), tuple(categorical)


def prepare(frame: pd.DataFrame, settings: Settings) -> Table:
    """Model inputs of `frame` under `settings`.

    Raises:
        RecipeError: a missing or conflicting column, an unusable target or weight, or no features.
    """
    check_columns(list(frame.columns), settings)
    target = frame[settings.target_column]
    keep = target.notna().to_numpy()
    if not keep.any():
        raise RecipeError(f"target_column {settings.target_column!r} is empty")
    frame, target = frame[keep].reset_index(drop=True), target[keep].reset_index(drop=True)
    objective = settings.objective or infer_objective(target, settings.metric)
    if settings.metric and settings.metric not in METRICS[objective]:
        raise RecipeError(f"metric {settings.metric!r} does not fit objective {objective!r}")
    label, classes = encode_label(target, objective)
    weight = weights(frame[settings.weight_column]) if settings.weight_column else None
    excluded = {settings.target_column, settings.weight_column, *settings.drop_columns}
    columns = [c for c in frame.columns if c not in excluded]
    if not columns:
        raise RecipeError("no feature columns left after removing the target, weight and drop_columns")
    features, categorical = feature_frame(frame[columns], settings.categorical_columns)
    return Table(
        features=features,
        label=label,
        weight=weight,
        objective=objective,
        objective_inferred=settings.objective is None,
        classes=classes,
        categorical=categorical,
        rows_dropped=int((~keep).sum()),
    )
