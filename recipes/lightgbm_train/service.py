"""The `train` and `cross_validate` operations of a validated payload (imports pandas and LightGBM)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np

from recipes.base import RecipeContext, RecipeError
from recipes.lightgbm_train.boosting import Curve, RoundCallback, boost, dataset, importances, lightgbm_params
from recipes.lightgbm_train.dataset import Dataset, load_dataset
from recipes.lightgbm_train.features import Table, prepare
from recipes.lightgbm_train.schema import METRICS, Settings
from recipes.lightgbm_train.splits import complement, holdout, kfold

#: Progress is sent at most this often (plus the first and last round of each stage).
PROGRESS_INTERVAL_S = 0.25
#: Share of the time left at the start kept for saving and publishing the model, within these bounds.
RESERVE_SHARE, RESERVE_MIN_S, RESERVE_MAX_S = 0.1, 1.0, 30.0
MODEL_FILENAME = "lightgbm_model.txt"


class OutOfTime(RecipeError):
    """Cross-validation could not finish before the task's deadline."""

    code = "deadline_exceeded"


class _Progress:
    """Per-round progress, throttled to PROGRESS_INTERVAL_S; the last round of a stage is always sent."""

    def __init__(self, ctx: RecipeContext, rounds: int, metric: str) -> None:
        self.ctx, self.rounds, self.metric = ctx, rounds, metric
        self._sent_at = -math.inf

    def stage(self, stage: str, rounds: int | None = None, **extra: Any) -> RoundCallback:
        total = rounds or self.rounds

        def on_round(done: int, value: float | None) -> None:
            now = time.monotonic()
            if done in (1, total) or now - self._sent_at >= PROGRESS_INTERVAL_S:
                fields: dict[str, Any] = {"stage": stage, **extra, "round": done, "rounds": total}
                if value is not None:
                    fields[self.metric] = value
                self.ctx.progress(**fields)
                self._sent_at = now

        return on_round


def _stop_at(ctx: RecipeContext) -> float:
    """The monotonic time at which boosting stops, leaving a reserve to save and publish the model."""
    deadline = getattr(ctx, "deadline", math.inf)
    if deadline is None or not math.isfinite(deadline):
        return math.inf
    left = deadline - time.monotonic()
    return deadline - min(RESERVE_MAX_S, max(RESERVE_MIN_S, RESERVE_SHARE * left))


def _load(settings: Settings, ctx: RecipeContext) -> Dataset:
    try:
        return load_dataset(ctx.artifact_path(settings.dataset_ref), settings.row_limit)
    except RecipeError as exc:
        raise RecipeError(f"dataset_ref {settings.dataset_ref!r}: {exc}") from exc


def _subset(table: Table, rows: np.ndarray, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    weight = None if table.weight is None else table.weight[rows]
    return dataset(table.features.iloc[rows], table.label[rows], weight, table.categorical, reference)


def _publish_model(booster: lgb.Booster, iteration: int, ctx: RecipeContext) -> str:
    path = ctx.output_dir / MODEL_FILENAME
    booster.save_model(str(path), num_iteration=iteration)
    return ctx.publish_artifact(path, MODEL_FILENAME)


def _strata(table: Table, settings: Settings) -> np.ndarray | None:
    return table.strata if settings.stratified else None


def train(
    table: Table, params: dict[str, Any], settings: Settings, ctx: RecipeContext, stop_at: float
) -> dict[str, Any]:
    """Boost on a seeded hold-out split; keep the model up to the round with the best validation metric."""
    n_rows = len(table.label)
    train_rows, valid_rows = holdout(n_rows, settings.test_size, settings.seed, _strata(table, settings))
    train_set = _subset(table, train_rows)
    valid_set = _subset(table, valid_rows, reference=train_set)
    progress = _Progress(ctx, settings.n_estimators, str(params["metric"]))
    boosted = boost(params, train_set, settings.n_estimators, stop_at, valid_set, progress.stage("train"))
    assert boosted.curve is not None
    best = boosted.curve.best_iteration()
    score = boosted.curve.at(best)
    print(
        f"train: {params['metric']}={score:.6g} at round {best} of {boosted.rounds}, {len(valid_rows)} validation rows"
    )
    return {
        "score": score,
        "best_iteration": best,
        "rounds_run": boosted.rounds,
        "stopped_at_deadline": boosted.out_of_time,
        "rows": {"train": len(train_rows), "validation": len(valid_rows)},
        "feature_importance": importances(boosted.booster, list(table.features.columns), best),
        "model_artifact_id": _publish_model(boosted.booster, best, ctx),
    }


def cross_validate(
    table: Table, params: dict[str, Any], settings: Settings, ctx: RecipeContext, stop_at: float
) -> dict[str, Any]:
    """K seeded folds; the best round is the one with the best mean metric, then a refit on all rows.

    Raises:
        OutOfTime: a fold or the refit did not finish before the deadline.
    """
    n_rows, metric = len(table.label), str(params["metric"])
    folds = kfold(n_rows, settings.folds, settings.seed, _strata(table, settings))
    progress = _Progress(ctx, settings.n_estimators, metric)
    curves: list[Curve] = []
    for k, valid_rows in enumerate(folds, start=1):
        train_set = _subset(table, complement(n_rows, valid_rows))
        valid_set = _subset(table, valid_rows, reference=train_set)
        on_round = progress.stage("fold", fold=k, folds=len(folds))
        boosted = boost(params, train_set, settings.n_estimators, stop_at, valid_set, on_round)
        if boosted.out_of_time:
            raise OutOfTime(
                f"cross_validate ran out of time in fold {k} of {len(folds)} after {boosted.rounds} rounds; "
                "lower n_estimators or folds, or raise the task timeout"
            )
        assert boosted.curve is not None
        curves.append(boosted.curve)
    length = min(len(c.values) for c in curves)
    mean = Curve(metric, curves[0].higher_better, [float(v) for v in np.mean([c.values[:length] for c in curves], 0)])
    best = mean.best_iteration()
    scores = [c.at(best) for c in curves]
    refit = boost(params, _subset(table, np.arange(n_rows)), best, stop_at, on_round=progress.stage("refit", best))
    if refit.out_of_time:
        raise OutOfTime("cross_validate ran out of time refitting on all rows; raise the task timeout")
    print(f"cross_validate: {metric}={mean.at(best):.6g} ± {float(np.std(scores)):.3g} at round {best}")
    return {
        "fold_scores": scores,
        "mean": mean.at(best),
        "std": float(np.std(scores)),
        "best_iteration": best,
        "rows": {"per_fold": [len(f) for f in folds]},
        "feature_importance": importances(refit.booster, list(table.features.columns), refit.rounds),
        "model_artifact_id": _publish_model(refit.booster, refit.rounds, ctx),
    }


OPERATIONS: dict[str, Callable[..., dict[str, Any]]] = {"train": train, "cross_validate": cross_validate}


def run_operation(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Run the payload's operation; the payload has already passed `schema.validate_payload`."""
    settings = Settings.from_payload(payload)
    data = _load(settings, ctx)
    table = prepare(data.frame, settings)
    metric = settings.metric or METRICS[table.objective][0]
    params = lightgbm_params(settings, table.objective, metric, len(table.classes or ()))
    body = OPERATIONS[settings.operation](table, params, settings, ctx, _stop_at(ctx))
    rows = {"read": len(data.frame), "used": len(table.label), "dropped_missing_target": table.rows_dropped}
    result: dict[str, Any] = {
        "operation": settings.operation,
        "objective": table.objective,
        "objective_inferred": table.objective_inferred,
        "metric": metric,
        **body,
        "rows": {**rows, **body["rows"]},
        "features": {"count": table.features.shape[1], "categorical": list(table.categorical)},
        "dataset": {
            "sha256": data.sha256,
            "format": data.format.name,
            "compression": data.format.compression,
            "size_bytes": data.size_bytes,
        },
        "params": {**params, "n_estimators": settings.n_estimators},
    }
    if table.classes is not None:
        result["classes"] = table.classes
    return result
