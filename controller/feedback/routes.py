"""`POST /api/v1/feedback`: public, validated, rate-limited per client address."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from controller.core.errors import ValidationFailed, field_error
from controller.core.ratelimit import RateLimiter, client_key
from controller.core.web import STORE, iso, json_response, read_json
from controller.feedback.models import Feedback

routes = web.RouteTableDef()

TYPES = ("bug", "feature_request", "provisioning", "job_type_request")
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000

FEEDBACK_LIMITER = web.AppKey("feedback_limiter", RateLimiter)


def setup(app: web.Application) -> None:
    """Add the feedback route: 10 submissions per client address and hour."""
    app[FEEDBACK_LIMITER] = RateLimiter(limit=10, window_s=3600)
    app.add_routes(routes)


def validate(body: Any) -> dict[str, str]:
    """The feedback fields, stripped.

    Raises:
      ValidationFailed: unknown, missing or too long fields, or an unknown type.
    """
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    allowed = {"type", "title", "description"}
    errors = [
        field_error(k, f"unknown field; allowed: {', '.join(sorted(allowed))}") for k in sorted(set(body) - allowed)
    ]
    if body.get("type") not in TYPES:
        errors.append(field_error("type", f"must be one of: {', '.join(TYPES)}"))
    for key, limit in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION)):
        value = body.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors.append(field_error(key, f"required: 1 to {limit} characters"))
    if errors:
        raise ValidationFailed(errors)
    return {key: body[key].strip() for key in allowed}


def feedback_json(row: Feedback) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "title": row.title,
        "description": row.description,
        "created_at": iso(row.created_at),
    }


@routes.post("/api/v1/feedback")
async def send_feedback(request: web.Request) -> web.Response:
    fields = validate(await read_json(request, 64 * 1024))
    request.app[FEEDBACK_LIMITER].check(client_key(request))
    row = await request.app[STORE].write(lambda: Feedback.create(**fields, created_at=time.time()))
    return json_response({"id": row.id, "status": "received"}, status=201)
