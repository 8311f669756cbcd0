"""Validation of job submissions into a typed `JobSpec` (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from controller.core.errors import InvalidFanOut, ValidationFailed, field_error
from controller.jobs.types import (
    JOB_TYPES,
    TYPE_FIELDS,
    TYPED_FIELDS,
    RankBy,
    parse_benchmark,
    parse_reduce,
    parse_sweep,
)

MERGE_STRATEGIES = ("collect", "keyed", "weighted_avg")
MERGE_OPTIONS = ("key_field", "weight_field")
PRIORITIES = ("high", "normal", "low")
FAN_OUT_SHAPES = ("by", "items", "chunks")
REQUIREMENT_KEYS = ("cpu", "memory_mb", "gpu_count", "gpu_memory_mb", "profile", "storage_gb")

DEFAULT_TIMEOUT_S = 3600
MAX_TIMEOUT_S = 86_400
MAX_RETRIES = 10
MAX_TAGS = 20

#: Every top-level field a submission may carry.
KNOWN_FIELDS = frozenset(
    {
        "type",
        "recipe",
        "project",
        "runner_command",
        "payload",
        "fan_out",
        "merge_strategy",
        "merge",
        "timeout_s",
        "max_retries",
        "priority",
        "depends_on",
        "tags",
        "callback_url",
        "requirements",
        "checkpointing",
        "meta",
        *TYPED_FIELDS,
    }
)


@dataclass(frozen=True)
class FanOut:
    """One validated fan-out shape, plus the optional batch size."""

    by: str | None = None
    items: tuple[dict[str, Any], ...] | None = None
    chunks: int | None = None
    range_field: str | None = None
    total: int | None = None
    batch_size: int = 1

    @property
    def shape(self) -> str:
        return "by" if self.by is not None else "items" if self.items is not None else "chunks"


@dataclass(frozen=True)
class JobSpec:
    """A submission that passed validation."""

    type: str = "structured_runner"
    recipe: str | None = None
    project: str | None = None
    runner_command: tuple[str, ...] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    fan_out: FanOut | None = None
    merge_strategy: str = "collect"
    merge: dict[str, Any] = field(default_factory=dict)
    timeout_s: int = DEFAULT_TIMEOUT_S
    max_retries: int = 0
    priority: str = "normal"
    depends_on: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    callback_url: str | None = None
    requirements: dict[str, Any] | None = None
    checkpointing: bool = False
    meta: dict[str, Any] | None = None
    # sweep
    parameters: dict[str, list[Any]] = field(default_factory=dict)
    fixed_payload: dict[str, Any] = field(default_factory=dict)
    rank_by: RankBy | None = None
    # map_reduce
    split: FanOut | None = None
    reduce: dict[str, Any] = field(default_factory=dict)
    # benchmark
    candidates: tuple[tuple[str, dict[str, Any]], ...] = ()
    shared_payload: dict[str, Any] = field(default_factory=dict)
    replicas: int = 1


class _Errors:
    """Collects field errors so that one 422 names every bad field."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.fan_out = False

    def add(self, name: str, message: str) -> None:
        self.items.append(field_error(name, message))


def parse_job_spec(body: Any, *, recipe: str | None = None) -> JobSpec:
    """Validate a submission body into a `JobSpec`.

    Parameters:
      body: the decoded JSON body.
      recipe: the recipe named by the route (`POST /api/v1/recipes/:name/jobs`), if any.

    Raises:
      InvalidFanOut: the fan-out is malformed (e.g. mixed shapes).
      ValidationFailed: any other field is invalid; every bad field is listed.
    """
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    errors = _Errors()
    for name in sorted(set(body) - KNOWN_FIELDS):
        errors.add(name, f"unknown field; allowed fields are: {', '.join(sorted(KNOWN_FIELDS))}")
    recipe = recipe or body.get("recipe")
    values: dict[str, Any] = {}
    _target(body, recipe, errors, values)
    values["payload"] = _object(body, "payload", errors, default={})
    values["meta"] = _object(body, "meta", errors, default=None)
    _type_fields(body, values, errors)
    values["timeout_s"] = _int(body, "timeout_s", 1, MAX_TIMEOUT_S, DEFAULT_TIMEOUT_S, errors)
    values["max_retries"] = _int(body, "max_retries", 0, MAX_RETRIES, 0, errors)
    values["priority"] = _choice(body, "priority", PRIORITIES, "normal", errors)
    values["tags"] = _tags(body.get("tags", []), errors)
    values["depends_on"] = _depends_on(body.get("depends_on", []), errors)
    values["callback_url"] = _callback_url(body.get("callback_url"), errors)
    values["requirements"] = _requirements(body.get("requirements"), errors)
    values["checkpointing"] = _checkpointing(body.get("checkpointing"), errors)
    if errors.items:
        raise (InvalidFanOut if errors.fan_out else ValidationFailed)(errors.items)
    return JobSpec(**values)


def _type_fields(body: dict[str, Any], values: dict[str, Any], errors: _Errors) -> None:
    """Fields that belong to one job type; other types refuse them."""
    job_type = values.get("type", "structured_runner") if values.get("recipe") is None else "structured_runner"
    allowed = TYPE_FIELDS.get(job_type, frozenset())
    for name in sorted(TYPED_FIELDS & set(body) - allowed):
        errors.add(name, f"not valid for a {job_type} job")
    if "payload" in body and job_type in _OWN_PAYLOAD:
        errors.add("payload", f"not valid for a {job_type} job; put shared values in {_OWN_PAYLOAD[job_type]}")
    if job_type == "structured_runner":
        values["fan_out"] = _fan_out(body.get("fan_out"), values["payload"], errors)
        values["merge_strategy"] = _choice(body, "merge_strategy", MERGE_STRATEGIES, "collect", errors)
        values["merge"] = _merge_options(body.get("merge", {}), errors)
    elif job_type == "sweep":
        values.update(parse_sweep(body, errors.add))
    elif job_type == "benchmark":
        values.update(parse_benchmark(body, errors.add))
    elif job_type == "map_reduce":
        if body.get("split") is None:
            errors.add("split", 'required: one fan-out shape, e.g. {"chunks": 10, "range_field": "n", "total": 1000}')
        else:
            values["split"] = _fan_out(body["split"], values["payload"], errors, name="split")
        values["reduce"] = parse_reduce(body.get("reduce"), errors.add)


#: job types whose shared payload has its own name
_OWN_PAYLOAD = {"sweep": "fixed_payload", "benchmark": "shared_payload"}


def _merge_options(value: Any, errors: _Errors) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - set(MERGE_OPTIONS):
        errors.add("merge", f"must be an object with optional {', '.join(MERGE_OPTIONS)}")
        return {}
    for key, item in value.items():
        if not isinstance(item, str) or not item:
            errors.add(f"merge.{key}", "must be a result field name")
    return value


def _target(body: dict[str, Any], recipe: str | None, errors: _Errors, values: dict[str, Any]) -> None:
    """What runs: a recipe, or a project's command."""
    if recipe is not None:
        if not isinstance(recipe, str) or not recipe:
            errors.add("recipe", "must be a recipe name from GET /api/v1/recipes")
        for name in ("type", "runner_command", "project"):
            if name in body:
                errors.add(name, "not allowed with a recipe: the recipe provides its own code")
        values["recipe"] = recipe
        return
    job_type = body.get("type", "structured_runner")
    if not isinstance(job_type, str) or job_type not in JOB_TYPES:
        errors.add("type", f"must be one of: {', '.join(JOB_TYPES)}")
        job_type = "structured_runner"
    values["type"] = job_type
    project = body.get("project")
    if not isinstance(project, str) or not project:
        errors.add("project", "required: the name of one of your projects (or submit a recipe job)")
    values["project"] = project
    command = body.get("runner_command")
    if command is not None:
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            errors.add("runner_command", 'must be a non-empty list of non-empty strings, e.g. ["python3", "run.py"]')
        else:
            values["runner_command"] = tuple(command)


def _object(body: dict[str, Any], name: str, errors: _Errors, default: Any) -> Any:
    value = body.get(name, default)
    if value is default:
        return default
    if not isinstance(value, dict):
        errors.add(name, "must be a JSON object")
        return default
    return value


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str, errors: _Errors) -> str:
    value = body.get(name, default)
    if value not in choices:
        errors.add(name, f"must be one of: {', '.join(choices)}")
        return default
    return value


def _int(body: dict[str, Any], name: str, low: int, high: int, default: int, errors: _Errors) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(name, f"must be an integer from {low} to {high}")
        return default
    return value


def _tags(value: Any, errors: _Errors) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        errors.add("tags", f"must be a list of at most {MAX_TAGS} strings")
        return ()
    if not all(isinstance(t, str) and 1 <= len(t) <= 64 for t in value):
        errors.add("tags", "each tag must be a string of 1 to 64 characters")
        return ()
    return tuple(dict.fromkeys(value))


def _depends_on(value: Any, errors: _Errors) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.add("depends_on", "must be a list of job ids")
        return ()
    return tuple(dict.fromkeys(value))


def _callback_url(value: Any, errors: _Errors) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("callback_url", "must be an http:// or https:// URL")
        return None
    return value


def _requirements(value: Any, errors: _Errors) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("requirements", "must be an object with keys " + ", ".join(REQUIREMENT_KEYS))
        return None
    for key, item in value.items():
        if key not in REQUIREMENT_KEYS:
            errors.add(f"requirements.{key}", f"unknown key; allowed: {', '.join(REQUIREMENT_KEYS)}")
        elif key == "profile":
            if not isinstance(item, str):
                errors.add("requirements.profile", "must be a preset name from GET /api/v1/presets")
        elif isinstance(item, bool) or not isinstance(item, int | float) or item < 0:
            errors.add(f"requirements.{key}", "must be a non-negative number")
    return value


def _checkpointing(value: Any, errors: _Errors) -> bool:
    if value is None:
        return False
    if not isinstance(value, dict) or set(value) - {"enabled", "resume_from_latest"}:
        errors.add("checkpointing", "must be an object {enabled, resume_from_latest}")
        return False
    if not all(isinstance(v, bool) for v in value.values()):
        errors.add("checkpointing", "enabled and resume_from_latest must be true or false")
        return False
    return value.get("enabled", False)


def _fan_out(value: Any, payload: dict[str, Any], errors: _Errors, name: str = "fan_out") -> FanOut | None:
    if value is None:
        return None
    before = len(errors.items)
    fan_out = _fan_out_shape(value, payload, errors)
    if name != "fan_out":
        for error in errors.items[before:]:
            error["field"] = name + error["field"][len("fan_out") :]
    if len(errors.items) > before:
        errors.fan_out = True
        return None
    return fan_out


def _fan_out_shape(value: Any, payload: dict[str, Any], errors: _Errors) -> FanOut | None:
    if not isinstance(value, dict):
        errors.add("fan_out", 'must be an object with exactly one of "by", "items" or "chunks"')
        return None
    shapes = [s for s in FAN_OUT_SHAPES if s in value]
    if len(shapes) != 1:
        found = ", ".join(shapes) or "none"
        errors.add("fan_out", f'choose exactly one fan-out shape of "by", "items", "chunks" (found: {found})')
        return None
    allowed = {"by"} if shapes == ["by"] else {"items"} if shapes == ["items"] else {"chunks", "range_field", "total"}
    for key in sorted(set(value) - allowed - {"batch_size"}):
        errors.add(f"fan_out.{key}", f"not valid with the {shapes[0]!r} shape")
    batch_size = value.get("batch_size", 1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        errors.add("fan_out.batch_size", "must be a positive integer")
        batch_size = 1
    shape = shapes[0]
    if shape == "by":
        name = value["by"]
        if not isinstance(name, str) or not isinstance(payload.get(name), list) or not payload[name]:
            errors.add("fan_out.by", "must name a payload field holding a non-empty list")
            return None
        return FanOut(by=name, batch_size=batch_size)
    if shape == "items":
        items = value["items"]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            errors.add("fan_out.items", "must be a non-empty list of objects")
            return None
        return FanOut(items=tuple(items), batch_size=batch_size)
    chunks, range_field, total = value.get("chunks"), value.get("range_field"), value.get("total")
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        errors.add("fan_out.chunks", "must be a positive integer")
    if not isinstance(range_field, str) or not range_field:
        errors.add("fan_out.range_field", "required with chunks: the payload field that receives each chunk's size")
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        errors.add("fan_out.total", "required with chunks: a positive integer, the size of the range 0..total")
    elif isinstance(chunks, int) and chunks > total:
        errors.add("fan_out.chunks", f"must not exceed total ({total})")
    return FanOut(chunks=chunks, range_field=range_field, total=total, batch_size=batch_size)


def spec_to_json(spec: JobSpec) -> dict[str, Any]:
    """The normalised submission, as stored and echoed back."""
    data: dict[str, Any] = {
        "type": spec.type if spec.recipe is None else None,
        "recipe": spec.recipe,
        "project": spec.project,
        "runner_command": list(spec.runner_command) if spec.runner_command else None,
        "payload": spec.payload,
        "fan_out": _fan_out_json(spec.fan_out),
        "merge_strategy": spec.merge_strategy,
        "merge": spec.merge,
        "timeout_s": spec.timeout_s,
        "max_retries": spec.max_retries,
        "priority": spec.priority,
        "depends_on": list(spec.depends_on),
        "tags": list(spec.tags),
        "callback_url": spec.callback_url,
        "requirements": spec.requirements,
        "checkpointing": {"enabled": spec.checkpointing},
        "meta": spec.meta,
    }
    if spec.type == "sweep":
        data.update(parameters=spec.parameters, fixed_payload=spec.fixed_payload, rank_by=_rank_json(spec.rank_by))
    elif spec.type == "benchmark":
        data.update(
            candidates=[{"name": n, "payload": p} for n, p in spec.candidates],
            shared_payload=spec.shared_payload,
            replicas=spec.replicas,
            rank_by=_rank_json(spec.rank_by),
        )
    elif spec.type == "map_reduce":
        reduce = dict(spec.reduce)
        reduce["runner_command"] = list(reduce["runner_command"]) if reduce.get("runner_command") else None
        data.update(split=_fan_out_json(spec.split), reduce=reduce)
    return data


def _rank_json(rank_by: RankBy | None) -> dict[str, str] | None:
    return None if rank_by is None else rank_by.to_json()


def spec_from_json(data: dict[str, Any]) -> JobSpec:
    """Rebuild a stored spec (already validated once)."""
    rank_by = data.get("rank_by")
    reduce = dict(data.get("reduce") or {})
    if reduce.get("runner_command"):
        reduce["runner_command"] = tuple(reduce["runner_command"])
    return JobSpec(
        type=data.get("type") or "structured_runner",
        recipe=data.get("recipe"),
        project=data.get("project"),
        runner_command=tuple(data["runner_command"]) if data.get("runner_command") else None,
        payload=data.get("payload") or {},
        fan_out=_fan_out_from_json(data.get("fan_out")),
        merge_strategy=data.get("merge_strategy", "collect"),
        merge=data.get("merge") or {},
        timeout_s=data.get("timeout_s", DEFAULT_TIMEOUT_S),
        max_retries=data.get("max_retries", 0),
        priority=data.get("priority", "normal"),
        depends_on=tuple(data.get("depends_on") or ()),
        tags=tuple(data.get("tags") or ()),
        callback_url=data.get("callback_url"),
        requirements=data.get("requirements"),
        checkpointing=bool((data.get("checkpointing") or {}).get("enabled")),
        meta=data.get("meta"),
        parameters=data.get("parameters") or {},
        fixed_payload=data.get("fixed_payload") or {},
        rank_by=None if rank_by is None else RankBy(**rank_by),
        split=_fan_out_from_json(data.get("split")),
        reduce=reduce,
        candidates=tuple((c["name"], c["payload"]) for c in data.get("candidates") or ()),
        shared_payload=data.get("shared_payload") or {},
        replicas=data.get("replicas", 1),
    )


def _fan_out_from_json(data: dict[str, Any] | None) -> FanOut | None:
    return None if data is None else FanOut(**{**data, "items": _tuple(data.get("items"))})


def _tuple(items: list[Any] | None) -> tuple[Any, ...] | None:
    return None if items is None else tuple(items)


def _fan_out_json(fan_out: FanOut | None) -> dict[str, Any] | None:
    if fan_out is None:
        return None
    data = {
        "by": fan_out.by,
        "items": list(fan_out.items) if fan_out.items is not None else None,
        "chunks": fan_out.chunks,
        "range_field": fan_out.range_field,
        "total": fan_out.total,
        "batch_size": fan_out.batch_size,
    }
    return {k: v for k, v in data.items() if v is not None}
