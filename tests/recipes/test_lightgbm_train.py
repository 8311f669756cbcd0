"""`lightgbm_train` end to end on small generated datasets: every objective and file format, the published model
reproducing the reported metric, cross-validation, determinism, the deadline, and task errors."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from agent.pool import RecipePool, RecipeRequest, RecipeRun
from recipes.base import RecipeError
from recipes.lightgbm_train import RECIPE
from recipes.lightgbm_train.dataset import load_dataset
from recipes.lightgbm_train.features import prepare
from recipes.lightgbm_train.schema import Settings
from recipes.lightgbm_train.splits import holdout
from tests.recipes.packing_support import FakeContext

ROWS, ROUNDS = 300, 30


class PublishingContext(FakeContext):
    """FakeContext that also publishes: each artifact is copied to `published/<id>`."""

    def __init__(self, tmp_path: Path, timeout_s: float = 300.0) -> None:
        super().__init__(tmp_path, timeout_s)
        self.published: dict[str, Path] = {}

    def publish_artifact(self, path: Path, filename: str = "") -> str:
        artifact_id = f"art_{len(self.published)}"
        target = self.output_dir.parent / "published" / artifact_id
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
        self.published[artifact_id] = target
        return artifact_id


def make_frame(objective: str, seed: int = 0) -> pd.DataFrame:
    """Two numeric features, one text category, a weight column and an id; the target depends on all three."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=ROWS), rng.normal(size=ROWS)
    city = rng.choice(["paris", "lima", "oslo"], ROWS)
    signal = 1.5 * x1 - x2 + np.select([city == "lima", city == "oslo"], [1.0, -1.0], 0.0)
    if objective == "regression":
        target = signal + rng.normal(scale=0.3, size=ROWS)
    elif objective == "binary":
        target = np.where(signal + rng.normal(scale=0.5, size=ROWS) > 0, "churned", "stayed")
    else:  # "multiclass" labels are text; "multiclass_int" labels are 0, 1, 2 (numeric: inferred as regression)
        level = np.digitize(signal + rng.normal(scale=0.5, size=ROWS), [-1.0, 1.0])
        target = level if objective == "multiclass_int" else np.array(["low", "mid", "high"])[level]
    return pd.DataFrame(
        {"id": np.arange(ROWS), "x1": x1, "x2": x2, "city": city, "w": rng.uniform(0.5, 2.0, ROWS), "target": target}
    )


def write(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "jsonl":
        path.write_text(frame.to_json(orient="records", lines=True))
    elif fmt == "tsv.gz":
        path.write_bytes(gzip.compress(frame.to_csv(index=False, sep="\t").encode()))
    else:
        frame.to_csv(path, index=False)
    return path


def metric(name: str, y: np.ndarray, pred: np.ndarray, w: np.ndarray | None) -> float:
    """LightGBM's definitions, written out in numpy."""
    w = np.ones(len(y)) if w is None else w
    eps = 1e-15
    if name == "rmse":
        return float(np.sqrt(np.sum(w * (y - pred) ** 2) / w.sum()))
    if name == "mae":
        return float(np.sum(w * np.abs(y - pred)) / w.sum())
    if name == "binary_logloss":
        p = np.clip(pred, eps, 1 - eps)
        return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))) / w.sum())
    if name == "auc":  # unweighted, no ties in continuous scores
        ranks = pd.Series(pred).rank().to_numpy()
        positives = y == 1
        return float(
            (ranks[positives].sum() - positives.sum() * (positives.sum() + 1) / 2)
            / (positives.sum() * (~positives).sum())
        )
    true = pred[np.arange(len(y)), y.astype(int)]
    if name == "multi_logloss":
        return float(-np.sum(w * np.log(np.clip(true, eps, None))) / w.sum())
    assert name == "multi_error"
    return float(np.sum(w * ((pred >= true[:, None]).sum(axis=1) > 1)) / w.sum())


def validation_rows(ctx: PublishingContext, payload: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The validation rows the recipe held out, rebuilt from the payload and the seed."""
    settings = Settings.from_payload(payload)
    table = prepare(load_dataset(ctx.artifact_path(payload["dataset_ref"])).frame, settings)
    _, valid = holdout(len(table.label), settings.test_size, settings.seed, table.strata)
    weight = None if table.weight is None else table.weight[valid]
    return table.features.iloc[valid], table.label[valid], weight


CASES = [
    # objective, file format, extra payload fields
    ("regression", "csv", {"weight_column": "w", "drop_columns": ["id"]}),
    ("regression", "parquet", {"metric": "mae", "drop_columns": ["id", "w"], "bagging_fraction": 0.8}),
    ("binary", "tsv.gz", {"weight_column": "w", "categorical_columns": ["city"], "drop_columns": ["id"]}),
    ("binary", "jsonl", {"metric": "auc", "drop_columns": ["id", "w"], "feature_fraction": 0.7}),
    ("multiclass", "parquet", {"weight_column": "w", "drop_columns": ["id"]}),
    ("multiclass_int", "jsonl", {"objective": "multiclass", "metric": "multi_error", "drop_columns": ["id", "w"]}),
]


@pytest.mark.parametrize(("kind", "fmt", "fields"), CASES)
def test_the_published_model_reproduces_the_reported_validation_metric(tmp_path, kind, fmt, fields):
    # Given a generated dataset in one of the formats (named without an extension: detected from content)
    ctx = PublishingContext(tmp_path)
    write(make_frame(kind), ctx.artifact_path("art_dataset"), fmt)
    objective = kind.removesuffix("_int")
    payload = {"dataset_ref": "art_dataset", "target_column": "target", "n_estimators": ROUNDS, **fields}

    # When the model is trained
    result = RECIPE.run(payload, ctx)

    # Then the objective, metric and rows are reported
    assert result["objective"] == objective
    assert result["metric"] == fields.get(
        "metric", {"regression": "rmse", "binary": "binary_logloss"}.get(objective, "multi_logloss")
    )
    assert result["rows"] == {"read": ROWS, "used": ROWS, "dropped_missing_target": 0, "train": 240, "validation": 60}
    assert result["features"]["categorical"] == ["city"]
    assert 1 <= result["best_iteration"] <= ROUNDS and result["rounds_run"] == ROUNDS
    assert result["dataset"]["sha256"] == load_dataset(ctx.artifact_path("art_dataset")).sha256
    assert result["dataset"]["format"] == fmt.removesuffix(".gz")
    assert {f["feature"] for f in result["feature_importance"][:2]} <= {"x1", "x2", "city"}
    # And the published model, loaded with LightGBM, reproduces the reported metric on the validation rows
    booster = lgb.Booster(model_file=str(ctx.published[result["model_artifact_id"]]))
    assert booster.current_iteration() == result["best_iteration"]
    features, label, weight = validation_rows(ctx, payload)
    assert metric(result["metric"], label, booster.predict(features), weight) == pytest.approx(
        result["score"], rel=1e-6
    )


def test_classes_are_reported_in_label_order(tmp_path):
    ctx = PublishingContext(tmp_path)
    write(make_frame("binary"), ctx.artifact_path("art_d"), "csv")

    result = RECIPE.run({"dataset_ref": "art_d", "target_column": "target", "n_estimators": 5}, ctx)

    # class i of the model is classes[i]: predictions are P(target == "stayed")
    assert result["classes"] == ["churned", "stayed"] and result["objective_inferred"] is True


def test_training_is_deterministic_for_a_seed(tmp_path):
    ctx = PublishingContext(tmp_path)
    write(make_frame("binary"), ctx.artifact_path("art_d"), "csv")
    payload = {"dataset_ref": "art_d", "target_column": "target", "n_estimators": ROUNDS, "bagging_fraction": 0.7}

    first, second = RECIPE.run(payload, ctx), RECIPE.run(payload, ctx)
    other_seed = RECIPE.run({**payload, "seed": 7}, ctx)

    strip = {"model_artifact_id"}
    assert {k: v for k, v in first.items() if k not in strip} == {k: v for k, v in second.items() if k not in strip}
    first_model = ctx.published[first["model_artifact_id"]].read_bytes()
    assert first_model == ctx.published[second["model_artifact_id"]].read_bytes()
    assert other_seed["score"] != first["score"]


def test_progress_streams_per_round(tmp_path):
    ctx = PublishingContext(tmp_path)
    write(make_frame("regression"), ctx.artifact_path("art_d"), "csv")

    RECIPE.run({"dataset_ref": "art_d", "target_column": "target", "n_estimators": ROUNDS}, ctx)

    assert ctx.progress_calls[0]["round"] == 1
    assert ctx.progress_calls[-1]["round"] == ROUNDS and ctx.progress_calls[-1]["stage"] == "train"
    assert ctx.progress_calls[-1]["rmse"] > 0


def test_cross_validation_reports_each_fold_and_publishes_a_refit_model(tmp_path):
    # Given a binary dataset and 3 stratified folds
    ctx = PublishingContext(tmp_path)
    write(make_frame("binary"), ctx.artifact_path("art_d"), "parquet")
    payload = {"operation": "cross_validate", "dataset_ref": "art_d", "target_column": "target", "folds": 3}

    # When it is cross-validated
    result = RECIPE.run({**payload, "n_estimators": ROUNDS, "metric": "auc", "drop_columns": ["id"]}, ctx)

    # Then each fold has a score, and mean/std summarize them
    scores = result["fold_scores"]
    assert len(scores) == 3 and all(0.5 < s <= 1.0 for s in scores)
    assert result["mean"] == pytest.approx(np.mean(scores)) and result["std"] == pytest.approx(np.std(scores))
    assert sum(result["rows"]["per_fold"]) == ROWS
    # And the published model is the refit on all rows, boosted for the best mean round
    booster = lgb.Booster(model_file=str(ctx.published[result["model_artifact_id"]]))
    assert booster.current_iteration() == result["best_iteration"]
    stages = {p["stage"] for p in ctx.progress_calls}
    assert stages == {"fold", "refit"} and {p.get("fold") for p in ctx.progress_calls} >= {1, 2, 3}


def test_row_limit_uses_the_first_rows(tmp_path):
    ctx = PublishingContext(tmp_path)
    write(make_frame("regression"), ctx.artifact_path("art_d"), "csv")

    result = RECIPE.run({"dataset_ref": "art_d", "target_column": "target", "n_estimators": 3, "row_limit": 100}, ctx)

    assert result["rows"]["read"] == 100 and result["rows"]["validation"] == 20


def test_training_stops_at_the_deadline_and_still_publishes_the_best_model(tmp_path):
    # Given a task whose deadline leaves no time to boost (the recipe keeps a reserve to publish)
    ctx = PublishingContext(tmp_path, timeout_s=0.5)
    write(make_frame("regression"), ctx.artifact_path("art_d"), "csv")

    result = RECIPE.run({"dataset_ref": "art_d", "target_column": "target", "n_estimators": 1000}, ctx)

    assert result["stopped_at_deadline"] is True and result["rounds_run"] < 1000
    assert result["model_artifact_id"] in ctx.published


def test_cross_validation_out_of_time_is_a_task_error(tmp_path):
    ctx = PublishingContext(tmp_path, timeout_s=0.5)
    write(make_frame("regression"), ctx.artifact_path("art_d"), "csv")

    with pytest.raises(RecipeError, match="ran out of time in fold 1") as raised:
        RECIPE.run({"operation": "cross_validate", "dataset_ref": "art_d", "target_column": "target"}, ctx)

    assert raised.value.code == "deadline_exceeded"


@pytest.mark.parametrize(
    ("fields", "frame", "message"),
    [
        ({"target_column": "price"}, make_frame("regression"), "target_column names absent column\\(s\\) 'price'"),
        ({"drop_columns": ["zip"]}, make_frame("regression"), "drop_columns names absent column\\(s\\) 'zip'"),
        ({"objective": "regression"}, make_frame("binary"), "must be numeric for objective 'regression'"),
    ],
)
def test_data_problems_end_as_task_errors_naming_the_column(tmp_path, fields, frame, message):
    ctx = PublishingContext(tmp_path)
    write(frame, ctx.artifact_path("art_d"), "csv")

    with pytest.raises(RecipeError, match=message):
        RECIPE.run({"dataset_ref": "art_d", "target_column": "target", **fields}, ctx)


def test_an_unreadable_dataset_names_the_artifact(tmp_path):
    ctx = PublishingContext(tmp_path)
    ctx.artifact_path("art_bad").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    with pytest.raises(RecipeError, match="dataset_ref 'art_bad': the file is binary but not Parquet"):
        RECIPE.run({"dataset_ref": "art_bad", "target_column": "target"}, ctx)


def test_a_missing_dataset_artifact_is_a_task_error(tmp_path):
    with pytest.raises(RecipeError, match="dataset_ref 'art_gone': the dataset artifact is not available"):
        RECIPE.run({"dataset_ref": "art_gone", "target_column": "target"}, PublishingContext(tmp_path))


def test_a_warm_agent_worker_runs_the_recipe_end_to_end(tmp_path):
    # Given the agent's warm pool and a dataset the agent fetched for `dataset_ref`
    write(make_frame("binary"), tmp_path / "fetched.csv", "csv")
    pool, progress, uploads = RecipePool({"lightgbm_train": "recipes.lightgbm_train"}), [], {}
    payload = {"dataset_ref": "art_d", "target_column": "target", "n_estimators": 10}
    request = RecipeRequest(payload, 120, tmp_path / "out", {"art_d": str(tmp_path / "fetched.csv")})

    def publish(path: Path, filename: str) -> str:
        uploads[filename] = Path(path).read_text()
        return "art_model"

    # When a task runs on a worker process
    try:
        outcome = RecipeRun(pool, "lightgbm_train", request, lambda *_: None, progress.append, publish).execute()
    finally:
        pool.close()

    # Then the result, the progress and the published model crossed the process boundary
    assert outcome.status == "completed", outcome.error
    assert outcome.result["model_artifact_id"] == "art_model" and outcome.result["classes"] == ["churned", "stayed"]
    assert progress[-1]["round"] == 10
    assert lgb.Booster(model_str=uploads["lightgbm_model.txt"]).current_iteration() == outcome.result["best_iteration"]
