"""Sealed recipe jobs through the normal job lifecycle on the embedded platform (packing)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from computalot import ComputalotClient, ValidationError

from recipes.packing.baselines import GRID_BASELINE
from tests.conftest_platform import Platform
from tests.processes import wait_for
from tests.recipes.packing_reference import score as reference_score

GRID = list(GRID_BASELINE)


def test_recipes_are_listed_with_their_schema(client: ComputalotClient):
    names = [r["name"] for r in client.list_recipes()["recipes"]]
    assert "packing" in names
    detail = client.get_recipe("packing")
    assert set(detail["operations"]) == {
        "eval",
        "eval_batch",
        "feasible_optimize",
        "basin_hopping",
        "differential_evolution",
    }
    assert detail["payload_schema"]["type"] == "object"
    assert "candidate_ref" in detail["artifact_inputs"]


def test_an_eval_job_scores_the_candidate_like_the_reference(client: ComputalotClient):
    job = client.submit_recipe("packing", {"operation": "eval", "candidate": GRID}, timeout_s=300)
    assert job["recipe"] == "packing" and job["type"] == "recipe"
    results = client.wait(job["id"], timeout_s=300)
    result = results["aggregate_result"][0]
    assert result["valid"] is True
    assert result["score"] == pytest.approx(reference_score(GRID)["radius"], abs=1e-6)


def test_eval_batch_fans_out_in_batches_and_merges_per_candidate(client: ComputalotClient):
    # Given 5 candidates, 2 per task: the recipe sees `candidates` lists of at most 2
    candidates = [GRID] * 4 + [[0.0] * 45]
    job = client.submit_job(
        recipe="packing",
        payload={"operation": "eval_batch", "candidates": candidates},
        fan_out={"by": "candidates", "batch_size": 2},
        timeout_s=300,
    )
    assert job["total_tasks"] == 3
    results = client.wait(job["id"], timeout_s=300)
    assert results["status"] == "completed"
    assert [
        t["result"]["count"] if "count" in t["result"] else len(t["result"]["results"]) for t in results["tasks"]
    ] == [2, 2, 1]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"operation": "warp", "candidate": GRID}, "payload.operation"),
        ({"operation": "eval", "candidate": [1.0, 2.0]}, "payload.candidate"),
        ({"operation": "eval"}, "payload"),
    ],
)
def test_bad_recipe_payloads_are_refused_naming_the_field(client: ComputalotClient, payload: dict, field: str):
    with pytest.raises(ValidationError) as caught:
        client.submit_recipe("packing", payload)
    assert caught.value.fields[0]["field"] == field
    assert client.list_jobs()["jobs"] == []


def test_an_unknown_recipe_names_the_ones_that_exist(embedded: Platform):
    with embedded.http(embedded.new_token()) as http:
        response = http.post("/api/v1/recipes/alchemy/jobs", json={"payload": {}})
        assert response.status_code == 422
        assert "packing" in response.json()["error"]["message"]
        assert http.post("/api/v1/jobs", json={"recipe": "packing", "project": "x", "payload": {}}).status_code == 422


def test_a_running_recipe_job_can_be_cancelled(client: ComputalotClient):
    payload = {
        "operation": "differential_evolution",
        "seed": 1,
        "max_iters": 10_000_000,
        "population_size": 30,
        "time_limit_s": 600,
    }
    job = client.submit_recipe("packing", payload, timeout_s=900)
    wait_for(lambda: client.get_job(job["id"])["counts"]["running"] == 1, timeout_s=120)
    assert client.cancel_job(job["id"])["status"] == "cancelled"
    # the warm worker was killed with the task: the next job still runs on a fresh one
    after = client.submit_recipe("packing", {"operation": "eval", "candidate": GRID}, timeout_s=300)
    assert client.wait(after["id"], timeout_s=300)["status"] == "completed"


def test_artifact_inputs_reach_the_recipe_and_other_accounts_artifacts_are_refused(
    embedded: Platform, client: ComputalotClient, tmp_path
):
    # Given a candidate stored as an artifact of the caller
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(GRID))
    artifact = client.upload_artifact(path, progress=False)
    # When an eval job names it in candidate_ref
    job = client.submit_recipe("packing", {"operation": "eval", "candidate_ref": artifact["id"]})
    results = client.wait(job["id"], timeout_s=300)
    # Then the recipe scored the file's candidate
    assert results["aggregate_result"][0]["score"] == pytest.approx(reference_score(GRID)["radius"], abs=1e-6)
    # And another account cannot name it
    stranger = ComputalotClient(embedded.url, embedded.new_token())
    with pytest.raises(ValidationError) as caught:
        stranger.submit_recipe("packing", {"operation": "eval", "candidate_ref": artifact["id"]})
    assert caught.value.fields[0]["field"] == "payload.candidate_ref"


def test_lightgbm_trains_on_a_dataset_artifact_and_publishes_a_loadable_model(client: ComputalotClient, tmp_path):
    # Given a small regression dataset uploaded as CSV
    rows = ["x1,x2,y"] + [f"{i % 7},{(i * 3) % 11},{2 * (i % 7) + (i * 3) % 11}" for i in range(200)]
    dataset = tmp_path / "data.csv"
    dataset.write_text("\n".join(rows) + "\n")
    artifact = client.upload_artifact(dataset, progress=False)
    # When a train job runs through the platform
    job = client.submit_recipe(
        "lightgbm_train", {"dataset_ref": artifact["id"], "target_column": "y", "n_estimators": 20}, timeout_s=600
    )
    results = client.wait(job["id"], timeout_s=600)
    assert results["status"] == "completed"
    result = results["aggregate_result"][0]
    # Then the model was published as an artifact of the caller, and it loads in LightGBM
    model = tmp_path / "model.txt"
    client.download_artifact(result["model_artifact_id"], model)
    import lightgbm

    booster = lightgbm.Booster(model_file=str(model))
    assert booster.num_feature() == 2
    assert result["metric"] == "rmse"


def test_echidna_jobs_fail_fast_when_no_agent_has_echidna(client: ComputalotClient, tmp_path):
    archive = tmp_path / "project.tar.gz"
    archive.write_bytes(b"not checked at submit")
    project = client.upload_artifact(archive, progress=False)["id"]
    with pytest.raises(Exception) as caught:
        client.submit_recipe("echidna", {"operation": "foundry_prebuilt", "project_ref": project, "contract": "C"})
    error = caught.value
    assert error.code == "no_capable_workers"
    assert "echidna" in error.recommended_action


def test_prop_amm_chunks_fanned_out_and_merged_by_count_equal_one_eval(client: ComputalotClient):
    # Given the 30 bps constant-product strategy as source
    source = base64.b64encode((Path(__file__).parent.parent / "recipes/prop_amm_data/cp30.rs").read_bytes()).decode()
    common = {"rs_source_b64": source, "seed_base": 0, "steps": 200}
    # When one eval covers 6 seeds, and 3 eval_chunk tasks cover them 2 at a time
    whole = client.submit_recipe("prop_amm", {**common, "operation": "eval", "count": 6}, timeout_s=600)
    chunks = client.submit_job(
        recipe="prop_amm",
        payload={**common, "operation": "eval_chunk"},
        fan_out={"items": [{"start": s, "count": 2} for s in (0, 2, 4)]},
        merge_strategy="weighted_avg",
        merge={"weight_field": "count"},
        timeout_s=600,
    )
    one = client.wait(whole["id"], timeout_s=600)["aggregate_result"][0]
    merged = client.wait(chunks["id"], timeout_s=600)["aggregate_result"]
    # Then the count-weighted average edge and the total count equal the single eval's
    assert merged["count"] == one["count"] == 6
    assert merged["avg_edge"] == pytest.approx(one["avg_edge"], rel=1e-12, abs=1e-12)
