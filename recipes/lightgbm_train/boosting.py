"""LightGBM boosting one round at a time: the parameters, the validation curve, the deadline."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from recipes.lightgbm_train.schema import Settings

#: LightGBM threads are capped here and at half the host's CPUs: agents run several tasks side by side, and
#: OpenMP threads spinning on a shared core slow every task down. With `deterministic` and `force_row_wise`
#: the trees do not depend on the thread count.
MAX_THREADS = 8

#: (round, validation metric or None) after each boosting round
RoundCallback = Callable[[int, float | None], None]


def threads() -> int:
    """LightGBM threads for one task on this host."""
    return max(1, min(MAX_THREADS, (os.cpu_count() or 2) // 2))


def lightgbm_params(settings: Settings, objective: str, metric: str, num_class: int) -> dict[str, object]:
    """The LightGBM parameters of a run (deterministic: same seed, same data, same trees)."""
    params: dict[str, object] = {
        "objective": objective,
        "metric": metric,
        "seed": settings.seed,
        "num_leaves": settings.num_leaves,
        "learning_rate": settings.learning_rate,
        "feature_fraction": settings.feature_fraction,
        "bagging_fraction": settings.bagging_fraction,
        # bagging_fraction alone does nothing in LightGBM; resample every round when it is below 1.
        "bagging_freq": 1 if settings.bagging_fraction < 1 else 0,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads(),
        "verbosity": -1,
    }
    if objective == "multiclass":
        params["num_class"] = num_class
    return params


def dataset(
    features: pd.DataFrame,
    label: np.ndarray,
    weight: np.ndarray | None,
    categorical: tuple[str, ...],
    reference: lgb.Dataset | None = None,
) -> lgb.Dataset:
    """A LightGBM Dataset; a validation set passes its training set as `reference` to share the bins."""
    return lgb.Dataset(
        features,
        label=label,
        weight=weight,
        categorical_feature=list(categorical),
        reference=reference,
        params={"verbosity": -1},
    )


@dataclass
class Curve:
    """The validation metric after each round."""

    metric: str
    higher_better: bool = False
    values: list[float] = field(default_factory=list)

    def best_iteration(self) -> int:
        """The first round (1-based) with the best value."""
        values = np.asarray(self.values)
        return int(np.argmax(values) if self.higher_better else np.argmin(values)) + 1

    def at(self, iteration: int) -> float:
        return self.values[iteration - 1]


@dataclass
class Boosted:
    """A booster after its rounds."""

    booster: lgb.Booster
    rounds: int
    curve: Curve | None
    out_of_time: bool


def boost(
    params: dict[str, object],
    train: lgb.Dataset,
    rounds: int,
    deadline: float,
    valid: lgb.Dataset | None = None,
    on_round: RoundCallback | None = None,
) -> Boosted:
    """Boost up to `rounds` rounds, evaluating `valid` after each; stops early at `deadline` (monotonic clock)
    or when no tree can grow any more."""
    booster = lgb.Booster(params=params, train_set=train)
    curve = None
    if valid is not None:
        booster.add_valid(valid, "valid")
        curve = Curve(str(params["metric"]))
    done, out_of_time = 0, False
    while done < rounds:
        # `update` is True when no leaf can split any more; LightGBM then drops that round's trees.
        finished = booster.update()
        if booster.current_iteration() > done:
            done = booster.current_iteration()
            value = _evaluate(booster, curve)
            if on_round is not None:
                on_round(done, value)
        if finished:
            break
        if time.monotonic() >= deadline:
            out_of_time = done < rounds
            break
    return Boosted(booster, done, curve, out_of_time)


def _evaluate(booster: lgb.Booster, curve: Curve | None) -> float | None:
    if curve is None:
        return None
    result = booster.eval_valid()[0]  # (data name, metric name, value, higher is better)
    curve.higher_better = bool(result[3])
    curve.values.append(float(result[2]))
    return curve.values[-1]


def importances(booster: lgb.Booster, names: list[str], iteration: int, top: int = 20) -> list[dict[str, object]]:
    """The `top` features by total gain up to `iteration`, with their split counts."""
    gain = booster.feature_importance("gain", iteration=iteration)
    splits = booster.feature_importance("split", iteration=iteration)
    order = sorted(range(len(names)), key=lambda i: (-gain[i], names[i]))
    return [
        {"feature": names[i], "gain": round(float(gain[i]), 6), "splits": int(splits[i])}
        for i in order[:top]
        if gain[i] > 0 or splits[i] > 0
    ]
