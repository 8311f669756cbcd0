"""What a sealed recipe is: metadata, a payload schema and an entry point.

Recipes are pure compute. They import nothing from controller, agent or broker; the
agent hands each run a `RecipeContext` for progress, artifact inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class RecipeError(Exception):
    """A recipe run failed in a way the user can act on; the message says how."""

    code = "recipe_error"


class RecipeContext(Protocol):
    """What the platform offers a running recipe."""

    #: `time.monotonic()` value after which the run should stop and return its best answer.
    deadline: float
    #: Directory whose files become the task's output artifacts.
    output_dir: Path

    def progress(self, **fields: Any) -> None:
        """Report progress (shown live to the user, e.g. `iteration`, `best_score`)."""

    def artifact_path(self, ref: str) -> Path:
        """Local path of an input artifact named by a `*_ref` payload field."""

    def publish_artifact(self, path: Path, filename: str = "") -> str:
        """Upload a file the recipe produced as an artifact of the caller; returns its `art_…` id."""


@dataclass(frozen=True)
class Recipe:
    """A sealed recipe: the platform-owned code behind `POST /api/v1/recipes/:name/jobs`."""

    name: str
    description: str
    #: operation name -> one-line description
    operations: Mapping[str, str]
    #: JSON Schema (draft 2020-12) of the whole payload; per-operation rules via if/then.
    payload_schema: Mapping[str, Any]
    #: entry point: (payload, context) -> JSON-serialisable result object
    run: Callable[[dict[str, Any], RecipeContext], dict[str, Any]]
    #: payload fields that name artifacts (`*_ref`)
    artifact_inputs: tuple[str, ...] = ()
    #: price in micro-dollars per task-hour
    micro_usd_per_hour: int = 100_000
    #: agent capabilities needed beyond the recipe itself (e.g. "echidna", "sbf")
    requires: tuple[str, ...] = ()
    #: operations that need capabilities beyond `requires`: operation -> capabilities
    operation_requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    examples: tuple[Mapping[str, Any], ...] = ()
