"""Validation of job submissions into a typed `JobSpec`, its stored form, and `spec_of(job)` (pure: no I/O)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from controller.core.errors import InvalidFanOut, ValidationFailed, field_error
from controller.jobs.fanout import FanOut, fan_out_from_json, fan_out_to_json
from controller.jobs.fields import FieldErrors
from controller.jobs.kinds import DEFAULT_TYPE, JOB_TYPES, TYPE_FIELDS, TYPED_FIELDS, kind_of, plan_job
from controller.jobs.limits import MAX_DEPENDS_ON, check_command, check_name, check_values
from controller.jobs.sizes import check_plan_size

if TYPE_CHECKING:
    from controller.jobs.models import Job
    from controller.jobs.planning import Plan

PRIORITIES = ("high", "normal", "low")
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
class JobSpec:
    """A submission that passed validation.

    `fan_out`, `merge_strategy` and `merge` are the default runner's fields, kept by every spec; the fields of
    any other type live in `details` (its kind's own dataclass) and read through the spec: `spec.parameters`.
    """

    type: str = DEFAULT_TYPE
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
    details: Any = None

    def __getattr__(self, name: str) -> Any:
        """A field of this job's type, e.g. a sweep's `parameters` (AttributeError for any other name)."""
        if name.startswith("__") or name == "details":  # copy and pickle probe dunders before __init__ ran
            raise AttributeError(name)
        try:
            return getattr(self.details, name)
        except AttributeError:
            raise AttributeError(f"a {self.type} job spec has no field {name!r}") from None


def parse_job_spec(body: Any, *, recipe: str | None = None) -> JobSpec:
    """Validate a submission body into a `JobSpec`.

    Parameters:
      body: the decoded JSON body.
      recipe: the recipe named by the route (`POST /api/v1/recipes/:name/jobs`), if any.

    Every limit of `controller.jobs.limits` is checked here, the plan's payload sizes last, once the fields are
    valid: a spec this returns can be planned and its task messages built.

    Raises:
      InvalidFanOut: the fan-out is malformed (e.g. mixed shapes, too many elements).
      ValidationFailed: any other field is invalid; every bad field is listed.
    """
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    errors = FieldErrors()
    for name in sorted(set(body) - KNOWN_FIELDS):
        errors.add(name, f"unknown field; allowed fields are: {', '.join(sorted(KNOWN_FIELDS))}")
    check_values(body, errors.add)
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
    if not errors.items:
        spec = JobSpec(**values)
        kind = kind_of(spec.type)
        check_plan_size(plan_job(spec), kind.payload_field or "payload", kind.fan_out_field, errors.add)
        if not errors.items:
            return spec
    raise (InvalidFanOut if errors.fan_out else ValidationFailed)(errors.items)


def _type_fields(body: dict[str, Any], values: dict[str, Any], errors: FieldErrors) -> None:
    """Fields that belong to one job type, read by its kind; other types refuse them."""
    job_type = values.get("type", DEFAULT_TYPE) if values.get("recipe") is None else DEFAULT_TYPE
    kind = kind_of(job_type)
    for name in sorted(TYPED_FIELDS & set(body) - TYPE_FIELDS[job_type]):
        errors.add(name, f"not valid for a {job_type} job")
    if "payload" in body and kind.payload_field:
        errors.add("payload", f"not valid for a {job_type} job; put shared values in {kind.payload_field}")
    values.update(kind.parse(body, values["payload"], errors))


def _target(body: dict[str, Any], recipe: str | None, errors: FieldErrors, values: dict[str, Any]) -> None:
    """What runs: a recipe, or a project's command."""
    if recipe is not None:
        if not isinstance(recipe, str) or not recipe:
            errors.add("recipe", "must be a recipe name from GET /api/v1/recipes")
        else:
            check_name("recipe", recipe, errors.add)
        for name in ("type", "runner_command", "project"):
            if name in body:
                errors.add(name, "not allowed with a recipe: the recipe provides its own code")
        values["recipe"] = recipe
        return
    job_type = body.get("type", DEFAULT_TYPE)
    if not isinstance(job_type, str) or job_type not in JOB_TYPES:
        errors.add("type", f"must be one of: {', '.join(JOB_TYPES)}")
        job_type = DEFAULT_TYPE
    values["type"] = job_type
    project = body.get("project")
    if not isinstance(project, str) or not project:
        errors.add("project", "required: the name of one of your projects (or submit a recipe job)")
    else:
        check_name("project", project, errors.add)
    values["project"] = project
    command = body.get("runner_command")
    if command is not None:
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            errors.add("runner_command", 'must be a non-empty list of non-empty strings, e.g. ["python3", "run.py"]')
        else:
            check_command("runner_command", command, errors.add)
            values["runner_command"] = tuple(command)


def _object(body: dict[str, Any], name: str, errors: FieldErrors, default: Any) -> Any:
    value = body.get(name, default)
    if value is default:
        return default
    if not isinstance(value, dict):
        errors.add(name, "must be a JSON object")
        return default
    return value


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str, errors: FieldErrors) -> str:
    value = body.get(name, default)
    if value not in choices:
        errors.add(name, f"must be one of: {', '.join(choices)}")
        return default
    return value


def _int(body: dict[str, Any], name: str, low: int, high: int, default: int, errors: FieldErrors) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(name, f"must be an integer from {low} to {high}")
        return default
    return value


def _tags(value: Any, errors: FieldErrors) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        errors.add("tags", f"must be a list of at most {MAX_TAGS} strings")
        return ()
    if not all(isinstance(t, str) and 1 <= len(t) <= 64 for t in value):
        errors.add("tags", "each tag must be a string of 1 to 64 characters")
        return ()
    return tuple(dict.fromkeys(value))


def _depends_on(value: Any, errors: FieldErrors) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_DEPENDS_ON:
        errors.add("depends_on", f"must be a list of at most {MAX_DEPENDS_ON} job ids")
        return ()
    if not all(isinstance(v, str) and 1 <= len(v) <= 64 for v in value):
        errors.add("depends_on", "must be a list of job ids (strings of 1 to 64 characters)")
        return ()
    return tuple(dict.fromkeys(value))


def _callback_url(value: Any, errors: FieldErrors) -> str | None:
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


def _requirements(value: Any, errors: FieldErrors) -> dict[str, Any] | None:
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


def _checkpointing(value: Any, errors: FieldErrors) -> bool:
    if value is None:
        return False
    if not isinstance(value, dict) or set(value) - {"enabled", "resume_from_latest"}:
        errors.add("checkpointing", "must be an object {enabled, resume_from_latest}")
        return False
    if not all(isinstance(v, bool) for v in value.values()):
        errors.add("checkpointing", "enabled and resume_from_latest must be true or false")
        return False
    return value.get("enabled", False)


def spec_to_json(spec: JobSpec) -> dict[str, Any]:
    """The normalised submission, as stored and echoed back: the common fields, then those of its type."""
    data: dict[str, Any] = {
        "type": spec.type if spec.recipe is None else None,
        "recipe": spec.recipe,
        "project": spec.project,
        "runner_command": list(spec.runner_command) if spec.runner_command else None,
        "payload": spec.payload,
        "fan_out": fan_out_to_json(spec.fan_out),
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
    return {**data, **kind_of(spec.type).to_json(spec)}


def spec_from_json(data: dict[str, Any]) -> JobSpec:
    """Rebuild a stored spec (already validated once)."""
    job_type = data.get("type") or DEFAULT_TYPE
    return JobSpec(
        type=job_type,
        recipe=data.get("recipe"),
        project=data.get("project"),
        runner_command=tuple(data["runner_command"]) if data.get("runner_command") else None,
        payload=data.get("payload") or {},
        fan_out=fan_out_from_json(data.get("fan_out")),
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
        **kind_of(job_type).from_json(data),
    )


_Value = TypeVar("_Value")


class _PerJob:
    """A small LRU of values derived from a job's spec, keyed by job id: a spec never changes after submit.

    Shared by the event loop and the store's threads, hence the lock.
    """

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, job_id: str, make: Callable[[], _Value]) -> _Value:
        with self._lock:
            if job_id in self._items:
                self._items.move_to_end(job_id)
                return self._items[job_id]
        value = make()  # outside the lock: decoding a large spec must not stall other jobs
        with self._lock:
            self._items[job_id] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


#: Decoded specs and plans of recently used jobs.
_SPECS = _PerJob(1024)
_PLANS = _PerJob(256)


def spec_of(job: Job) -> JobSpec:
    """The decoded spec of a stored job, decoded once per job (the one way to read a job's submitted fields)."""
    return _SPECS.get(job.id, lambda: spec_from_json(job.spec))


def plan_of(job: Job) -> Plan:
    """The plan of a stored job, planned once per job."""
    return _PLANS.get(job.id, lambda: plan_job(spec_of(job)))
