"""The whole `echidna` run against a fake `echidna` on PATH: command, streaming, timeout kill, report, uploads,
and the capability an agent advertises."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from agent.pool import RecipePool, RecipeRequest, RecipeRun
from recipes.base import RecipeError
from recipes.echidna import CAPABILITY, RECIPE, tools
from recipes.features import FEATURE_CHECKS, detect_features
from tests.recipes.echidna_data.support import (
    DATA,
    PublishingContext,
    foundry_tree,
    hardhat_tree,
    install_fake_tools,
    pack,
    run_record,
)

PAYLOAD = {"operation": "foundry_prebuilt", "project_ref": "art_project", "contract": "TestToken"}


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@pytest.fixture
def fake_echidna(tmp_path, monkeypatch):
    """A fake `echidna` and `crytic-compile` first on PATH, replaying a recorded property campaign."""
    install_fake_tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ECHIDNA_RECORD", str(tmp_path / "record.json"))
    monkeypatch.setenv("FAKE_ECHIDNA_STDOUT", str(DATA / "property_2_2.stdout"))
    return tmp_path / "record.json"


def _context(tmp_path, timeout_s=120.0, tree=foundry_tree):
    ctx = PublishingContext(tmp_path, timeout_s)
    pack(tree(tmp_path / "project"), tmp_path / "project.tar.gz", "proj/")
    ctx.add_file("art_project", tmp_path / "project.tar.gz")
    return ctx


def test_a_campaign_runs_end_to_end_and_reports_tests_coverage_and_artifacts(tmp_path, fake_echidna, monkeypatch):
    # Given a built Foundry project, a payload setting every option, and an agent-wide RPC setting
    monkeypatch.setenv("ECHIDNA_RPC_URL", "http://node.invalid")
    ctx = _context(tmp_path)
    payload = {**PAYLOAD, "test_limit": 50000, "seq_len": 30, "shrink_limit": 100, "seed": 3, "workers": 2}

    # When the recipe runs
    result = RECIPE.run({**payload, "stop_on_fail": True}, ctx)

    # Then Echidna ran in the project root with the payload's options, a config file and no inherited RPC URL
    record = run_record(fake_echidna)
    argv = record["argv"]
    assert record["cwd"].endswith("/project/proj") and argv[0] == "."
    for flag, value in (("--test-limit", "50000"), ("--seq-len", "30"), ("--shrink-limit", "100"), ("--seed", "3")):
        assert argv[argv.index(flag) + 1] == value
    assert argv[argv.index("--workers") + 1] == "2" and "--timeout" in argv
    assert record["config"] == '{"stopOnFail": true}'
    assert record["rpc_url"] is None
    # And the report is parsed into per-test outcomes
    assert (result["passed"], result["failed"], result["errors"], result["exit_code"]) == (1, 1, 0, 1)
    failed = result["tests"][1]
    assert failed["name"] == "echidna_balance_under_1000"
    assert [c["call"] for c in failed["call_sequence"]] == ["airdrop()", "transfer(0x0,1001)"]
    assert result["calls"] == 50116 and result["coverage"]["instructions"] == 5
    assert result["echidna_version"] == "2.2.3" and result["timed_out"] is False
    assert result["command"][0] == "echidna" and "$WORK/corpus" in result["command"]
    # And the status lines streamed as progress
    assert ctx.progress_calls[-1] == {
        "failed": 1,
        "tests": 2,
        "calls": 50116,
        "test_limit": 50000,
        "coverage": 437,
        "corpus": 3,
    }
    assert {"falsified": "echidna_balance_under_1000"} in ctx.progress_calls


def test_the_corpus_and_coverage_reports_are_uploaded(tmp_path, fake_echidna):
    ctx = _context(tmp_path)

    artifacts = RECIPE.run(PAYLOAD, ctx)["artifacts"]

    with tarfile.open(ctx.published[artifacts["corpus"]]) as tar:
        assert sorted(tar.getnames()) == [
            "corpus/coverage",
            "corpus/coverage/1977.txt",
            "corpus/reproducers",
            "corpus/reproducers/8812.txt",
        ]
    assert sorted(artifacts["coverage"]) == ["covered.1700000000.html", "covered.1700000000.txt"]
    assert ctx.published[artifacts["coverage"]["covered.1700000000.html"]].read_text() == "<html></html>"


def test_a_hardhat_project_runs_with_hardhat_crytic_args(tmp_path, fake_echidna):
    ctx = _context(tmp_path, tree=hardhat_tree)

    RECIPE.run({**PAYLOAD, "operation": "hardhat_prebuilt"}, ctx)

    argv = run_record(fake_echidna)["argv"]
    assert "--hardhat-ignore-compile" in argv[argv.index("--crytic-args") + 1]


@pytest.mark.parametrize(
    ("help_text", "expected"), [("Either 'property', 'dapptest'", "dapptest"), ("'foundry'", "foundry")]
)
def test_the_foundry_test_mode_follows_the_installed_echidna(tmp_path, fake_echidna, monkeypatch, help_text, expected):
    monkeypatch.setenv("FAKE_ECHIDNA_HELP", help_text)

    result = RECIPE.run({**PAYLOAD, "test_mode": "foundry"}, _context(tmp_path))

    argv = run_record(fake_echidna)["argv"]
    assert argv[argv.index("--test-mode") + 1] == expected
    assert result["test_mode"] == "foundry"


def test_an_echidna_that_ignores_sigterm_is_killed_at_the_deadline(tmp_path, fake_echidna, monkeypatch):
    # Given an Echidna that never reports and ignores SIGTERM, and a task with 3 s left
    monkeypatch.setenv("FAKE_ECHIDNA_MODE", "hang")
    ctx = _context(tmp_path, timeout_s=3.0)

    # When the recipe runs, it fails with the timeout code
    with pytest.raises(RecipeError, match="did not report before the task timeout") as raised:
        RECIPE.run(PAYLOAD, ctx)

    # Then the fake Echidna and its child are gone, and its log lines made it into the error
    assert raised.value.code == "timeout"
    record = run_record(fake_echidna)
    assert not _alive(record["pid"]) and not _alive(record["child_pid"])
    assert "falsified" in str(raised.value)


def test_an_echidna_stopped_at_the_deadline_still_reports_what_it_found(tmp_path, fake_echidna, monkeypatch):
    monkeypatch.setenv("FAKE_ECHIDNA_MODE", "report_on_term")

    result = RECIPE.run(PAYLOAD, _context(tmp_path, timeout_s=3.0))

    assert result["timed_out"] is True and result["exit_code"] == 0
    assert result["failed"] == 1 and result["artifacts"]["corpus"] is not None


def test_an_echidna_that_fails_without_a_report_is_a_task_error_with_its_stderr(tmp_path, fake_echidna, monkeypatch):
    monkeypatch.setenv("FAKE_ECHIDNA_MODE", "crash")

    with pytest.raises(RecipeError, match="exited with code 2 without a report:\n.*Couldn't compile") as raised:
        RECIPE.run(PAYLOAD, _context(tmp_path))

    assert raised.value.code == "echidna_failed"


def test_bad_archives_fail_before_echidna_runs(tmp_path, fake_echidna):
    ctx = PublishingContext(tmp_path)
    pack(foundry_tree(tmp_path / "project", built=False), tmp_path / "p.zip")
    ctx.add_file("art_project", tmp_path / "p.zip")

    with pytest.raises(RecipeError, match="project_ref 'art_project': the project was not built") as raised:
        RECIPE.run(PAYLOAD, ctx)

    assert raised.value.code == "project_not_built"
    assert not fake_echidna.exists()


def test_a_contract_missing_from_the_build_fails_before_echidna_runs(tmp_path, fake_echidna):
    with pytest.raises(RecipeError, match="'Vault' is not in the build"):
        RECIPE.run({**PAYLOAD, "contract": "Vault"}, _context(tmp_path))

    assert not fake_echidna.exists()


def test_an_agent_without_crytic_compile_is_misconfigured(tmp_path, monkeypatch):
    install_fake_tools(tmp_path / "bin", crytic_compile=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    with pytest.raises(RecipeError, match="lacks crytic-compile") as raised:
        RECIPE.run(PAYLOAD, PublishingContext(tmp_path))

    assert raised.value.code == "agent_misconfigured"
    assert tools.missing_tools() == ["crytic-compile"]


@pytest.mark.parametrize(
    ("version", "supported"), [("2.2.3", True), ("2.3.1", True), ("2.1.1", False), ("3.0.0", False), ("", False)]
)
def test_supported_version_asks_the_executable(tmp_path, monkeypatch, version, supported):
    install_fake_tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("FAKE_ECHIDNA_VERSION", version)

    assert tools.supported_version("echidna") is supported


def test_an_unsupported_echidna_fails_the_task_as_misconfigured(tmp_path, fake_echidna, monkeypatch):
    monkeypatch.setenv("FAKE_ECHIDNA_VERSION", "2.0.5")

    with pytest.raises(RecipeError, match="version 2.0.5") as raised:
        RECIPE.run(PAYLOAD, _context(tmp_path))

    assert raised.value.code == "agent_misconfigured"


def test_the_agent_advertises_the_capability_only_with_echidna_on_path(tmp_path, monkeypatch):
    # Given an agent host without Echidna, the capability is absent, so the recipe (which requires it) is not offered
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert CAPABILITY not in detect_features(FEATURE_CHECKS)
    assert tools.supported_version("echidna") is False

    # When Echidna is installed, the capability appears and the recipe's requirement is met
    install_fake_tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    features = detect_features(FEATURE_CHECKS)
    assert CAPABILITY in features and set(RECIPE.requires) <= set(features)
    assert tools.supported_version("echidna") is True


def test_an_invalid_payload_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(RecipeError, match="contract"):
        RECIPE.run({**PAYLOAD, "contract": "../x"}, PublishingContext(tmp_path))


def test_a_warm_agent_worker_runs_the_recipe_end_to_end(tmp_path, fake_echidna):
    # Given the agent's warm pool (it inherits PATH with the fake tools) and the fetched project archive
    pack(foundry_tree(tmp_path / "project"), tmp_path / "fetched.tar.gz")
    pool, progress, uploads = RecipePool({"echidna": "recipes.echidna"}), [], []
    request = RecipeRequest(PAYLOAD, 120, tmp_path / "out", {"art_project": str(tmp_path / "fetched.tar.gz")})

    def publish(path: Path, filename: str) -> str:
        uploads.append(filename)
        return f"art_{len(uploads)}"

    # When a task runs on a worker process
    try:
        outcome = RecipeRun(pool, "echidna", request, lambda *_: None, progress.append, publish).execute()
    finally:
        pool.close()

    # Then the parsed report, the progress and the uploads crossed the process boundary
    assert outcome.status == "completed", outcome.error
    assert outcome.result["failed"] == 1 and outcome.result["artifacts"]["corpus"] == "art_1"
    assert sorted(uploads) == ["covered.1700000000.html", "covered.1700000000.txt", "echidna-corpus.tar.gz"]
    assert progress[-1]["calls"] == 50116
