"""Recipe submissions: the recipe exists, the operation exists, the payload fits the recipe's schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from broker.queues import recipe_key
from controller.accounts.models import Account
from controller.agents.roster import AgentRoster
from controller.artifacts.refs import validate_refs
from controller.core.errors import NoCapableWorkers, ValidationFailed, field_error
from controller.jobs.planning import Plan
from recipes import Recipe, registry


def find_recipe(name: str) -> Recipe:
    """The named recipe, or a 422 listing those that exist."""
    recipes = registry()
    if name not in recipes:
        raise ValidationFailed([field_error("recipe", f"unknown recipe {name!r}; available: {', '.join(recipes)}")])
    return recipes[name]


def payload_errors(recipe: Recipe, payload: Any) -> list[dict[str, str]]:
    """Every way `payload` breaks the recipe's schema, each naming its field (`payload.candidate[3]`)."""
    operation = payload.get("operation") if isinstance(payload, dict) else None
    if isinstance(payload, dict) and operation is not None and operation not in recipe.operations:
        offered = ", ".join(recipe.operations)
        return [field_error("payload.operation", f"unknown operation {operation!r}; {recipe.name} offers: {offered}")]
    validator = Draft202012Validator(recipe.payload_schema)
    errors = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = "payload" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.append(field_error(path, _message(error, operation)))
    return errors


def _message(error: ValidationError, operation: Any) -> str:
    """jsonschema's message, except for fields an operation refuses (`{"not": {}}`), which it words badly."""
    if error.validator == "not":
        return f"not accepted by the {operation!r} operation; see GET /api/v1/recipes/:name for its fields"
    return error.message


def check_recipe_job(recipe: Recipe, plan: Plan, account: Account | None = None) -> str:
    """Validate the payloads the tasks will receive; returns the operation (tasks of one job share it).

    The first and last task payloads are checked, so a fan-out that breaks the schema (e.g. `by` turning
    a list of candidates into single candidates) is caught at submit. With `account`, every artifact
    input (`*_ref`) must be one of its artifacts.
    """
    for index in sorted({0, plan.task_count - 1}):
        payload = plan.task_payload(index)
        errors = payload_errors(recipe, payload)
        if errors:
            raise ValidationFailed(errors)
        if account is not None:
            validate_refs(account, payload, recipe.artifact_inputs)
    return plan.task_payload(0).get("operation", "")


def recipe_queue_key(recipe: Recipe, operation: str, agents: AgentRoster) -> str:
    """The queue key of the job's tasks, after checking a live agent can serve them."""
    features = tuple(recipe.operation_requires.get(operation, ()))
    if not agents.recipe_capable(recipe.name, features):
        needs = f" with {', '.join(features)}" if features else ""
        raise NoCapableWorkers(
            f"no live agent offers the {recipe.name!r} recipe{needs}",
            details={
                "recipe": recipe.name,
                "operation": operation,
                "needs": list(features),
                "available": agents.summary(),
            },
            recommended_action=(
                f"Ask the operator for an agent offering {recipe.name}{needs}, or use an operation that runs on "
                "the agents listed in details.available."
            ),
        )
    return recipe_key(recipe.name, features)
