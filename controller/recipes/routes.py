"""Recipe discovery."""

from __future__ import annotations

from aiohttp import web

from controller.accounts.auth import account_of, require_writer
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import SETTINGS, json_response, not_found, read_json
from controller.jobs.submit import submit
from controller.jobs.views import job_json
from recipes import registry

routes = web.RouteTableDef()

#: What to do with a recipe submission over the body limit.
LARGE_RECIPE_ACTION = "Upload large inputs as artifacts (POST /api/v1/artifacts) and pass their ids in `*_ref` fields."


@routes.get("/api/v1/recipes")
async def list_recipes(request: web.Request) -> web.Response:
    return json_response(
        {
            "recipes": [
                {
                    "name": r.name,
                    "description": r.description,
                    "operations": list(r.operations),
                    "artifact_inputs": list(r.artifact_inputs),
                    "requires": sorted({f for fs in r.operation_requires.values() for f in fs} | set(r.requires)),
                }
                for r in registry().values()
            ]
        }
    )


@routes.get("/api/v1/recipes/{name}")
async def get_recipe(request: web.Request) -> web.Response:
    recipe = registry().get(request.match_info["name"])
    if recipe is None:
        raise not_found("recipe", request.match_info["name"])
    return json_response(
        {
            "name": recipe.name,
            "description": recipe.description,
            "operations": dict(recipe.operations),
            "payload_schema": recipe.payload_schema,
            "artifact_inputs": list(recipe.artifact_inputs),
            "examples": list(recipe.examples),
        }
    )


@routes.post("/api/v1/recipes/{name}/jobs")
async def submit_recipe_job(request: web.Request) -> web.Response:
    """A recipe job: `{"payload": {...}, "fan_out"?, "timeout_s"?, ...}` with no type, project or command."""
    account = account_of(request)
    require_writer(account)
    name = request.match_info["name"]
    body = await read_json(request, request.app[SETTINGS].max_payload_bytes, LARGE_RECIPE_ACTION)
    if isinstance(body, dict) and body.get("recipe", name) != name:
        raise ValidationFailed([field_error("recipe", f"the route names recipe {name!r}; drop the field or match it")])
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "recipe"}
    job, created = await submit(
        request.app, account, body, recipe=name, idempotency_key=request.headers.get("Idempotency-Key")
    )
    return json_response(job_json(job), status=201 if created else 200)
