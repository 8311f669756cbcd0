"""`benchmark`: every candidate run `replicas` times over a shared payload, then compared (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from controller.jobs.fanout import FanOut
from controller.jobs.fields import AddError, FieldErrors
from controller.jobs.kinds.base import JobKind
from controller.jobs.limits import MAX_BENCHMARK_RUNS, check_keys
from controller.jobs.merging import Aggregate, element_results
from controller.jobs.planning import Plan
from controller.jobs.ranking import RankBy, parse_rank_by, rank_by_from_json, rank_by_to_json, summarise_benchmark

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec

#: Runs of each candidate.
MAX_REPLICAS = 100


@dataclass(frozen=True)
class BenchmarkFields:
    """The fields of a benchmark job: candidates are ordered (name, payload overrides) pairs."""

    candidates: tuple[tuple[str, dict[str, Any]], ...] = ()
    shared_payload: dict[str, Any] = field(default_factory=dict)
    replicas: int = 1
    rank_by: RankBy | None = None


class Benchmark(JobKind):
    """Candidates × replicas, candidate-major; the aggregate has per-candidate statistics and a ranking."""

    name = "benchmark"
    fields = frozenset({"candidates", "shared_payload", "replicas", "rank_by"})
    fan_out_field = "candidates"
    payload_field = "shared_payload"

    def parse(self, body: dict[str, Any], payload: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
        """`candidates` ({name: overrides} or [{"name", "payload"}]), `shared_payload`, `replicas`, `rank_by`."""
        candidates = _candidates(body.get("candidates"), errors.add)
        shared = body.get("shared_payload", {})
        if not isinstance(shared, dict):
            errors.add("shared_payload", "must be a JSON object")
            shared = {}
        replicas = body.get("replicas", 1)
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_REPLICAS:
            errors.add("replicas", f"must be an integer from 1 to {MAX_REPLICAS}")
            replicas = 1
        runs = len(candidates) * replicas
        if runs > MAX_BENCHMARK_RUNS:
            errors.add(
                "candidates",
                f"{len(candidates)} candidates × {replicas} replicas make {runs} tasks; the limit is "
                f"{MAX_BENCHMARK_RUNS}: benchmark fewer candidates per job, or use fewer replicas",
            )
        rank_by = parse_rank_by(body.get("rank_by"), errors.add)
        return {"details": BenchmarkFields(candidates, shared, replicas, rank_by)}

    def to_json(self, spec: JobSpec) -> dict[str, Any]:
        bench = _fields(spec)
        return {
            "candidates": [{"name": n, "payload": p} for n, p in bench.candidates],
            "shared_payload": bench.shared_payload,
            "replicas": bench.replicas,
            "rank_by": rank_by_to_json(bench.rank_by),
        }

    def from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        candidates = tuple((c["name"], c["payload"]) for c in data.get("candidates") or ())
        shared, replicas = data.get("shared_payload") or {}, data.get("replicas", 1)
        return {"details": BenchmarkFields(candidates, shared, replicas, rank_by_from_json(data.get("rank_by")))}

    def plan(self, spec: JobSpec) -> Plan:
        """One item per (candidate, replica) over `shared_payload`, candidate-major."""
        bench = _fields(spec)
        items = tuple(
            {**overrides, "replica": replica} for _, overrides in bench.candidates for replica in range(bench.replicas)
        )
        return Plan(payload=bench.shared_payload, fan_out=FanOut(items=items))

    def merge(self, spec: JobSpec, plan: Plan, results: list[Any]) -> Aggregate:
        """Statistics per candidate and the ranking; the best candidate and its mean are aliased."""
        bench = _fields(spec)
        elements = element_results(plan, results)
        names = [n for n, _ in bench.candidates]
        value, notes = summarise_benchmark(names, bench.replicas, bench.rank_by, elements.values)
        top = value["ranking"][0] if value["ranking"] else None
        best = top if top is not None and top["mean"] is not None else None
        aliases = {"best_candidate": best["candidate"], "best_mean": best["mean"]} if best is not None else {}
        return Aggregate(value, aliases, elements.all_warnings + notes)

    def payloads(self, spec: JobSpec) -> Iterator[tuple[str, dict[str, Any]]]:
        bench = _fields(spec)
        yield "shared_payload", bench.shared_payload
        for i, (_, overrides) in enumerate(bench.candidates):
            yield f"candidates[{i}]", overrides


def _candidates(value: Any, add: AddError) -> tuple[tuple[str, dict[str, Any]], ...]:
    if isinstance(value, dict) and value:
        pairs = list(value.items())
    elif isinstance(value, list) and value and all(isinstance(c, dict) for c in value):
        pairs = [(c.get("name"), c.get("payload", {})) for c in value]
    else:
        add("candidates", 'required: {"name": {payload overrides}, ...} or [{"name": ..., "payload": {...}}, ...]')
        return ()
    names = [name for name, _ in pairs]
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        add("candidates", "every candidate needs a unique, non-empty name")
        return ()
    if not check_keys("candidates", names, add):
        return ()
    if not all(isinstance(p, dict) for _, p in pairs):
        add("candidates", "every candidate's payload overrides must be an object")
        return ()
    return tuple(pairs)


def _fields(spec: JobSpec) -> BenchmarkFields:
    assert isinstance(spec.details, BenchmarkFields), spec.type
    return spec.details
