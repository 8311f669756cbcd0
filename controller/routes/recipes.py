"""Recipe discovery."""

from __future__ import annotations

from aiohttp import web

from controller.web import json_response, not_found
from recipes import registry

routes = web.RouteTableDef()


@routes.get("/api/v1/recipes")
async def list_recipes(request: web.Request) -> web.Response:
    return json_response(
        {
            "recipes": [
                {"name": r.name, "description": r.description, "operations": list(r.operations)}
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
