"""`lightgbm_train`: train or cross-validate LightGBM on an immutable tabular dataset artifact.

Importing this package is cheap: pandas, pyarrow and LightGBM are imported on the first run.
"""

from __future__ import annotations

from typing import Any

from recipes.base import Recipe, RecipeContext
from recipes.lightgbm_train.schema import OPERATIONS, PAYLOAD_SCHEMA, validate_payload


def run(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Entry point: validate the payload, then run its operation (`train` when absent).

    Raises:
        RecipeError: the payload, the dataset or one of its named columns is unusable; the message says which.
    """
    validate_payload(payload)
    from recipes.lightgbm_train.service import run_operation  # deferred: pulls in pandas and LightGBM

    return run_operation(payload, ctx)


RECIPE = Recipe(
    name="lightgbm_train",
    description="Train (hold-out split) or cross-validate (K folds) a LightGBM model on a CSV, TSV, JSON Lines "
    "or Parquet dataset artifact: regression, binary or multiclass. Reports the metric, feature importances by "
    "gain and the best round, and publishes the model as an artifact. Deterministic for a given seed.",
    operations=OPERATIONS,
    payload_schema=PAYLOAD_SCHEMA,
    run=run,
    artifact_inputs=("dataset_ref",),
    examples=(
        {"operation": "train", "dataset_ref": "art_...", "target_column": "price"},
        {
            "operation": "cross_validate",
            "dataset_ref": "art_...",
            "target_column": "churned",
            "metric": "auc",
            "folds": 5,
            "categorical_columns": ["plan"],
            "drop_columns": ["customer_id"],
        },
    ),
)

__all__ = ["RECIPE", "run"]
