"""The OpenAPI 3.1 document of the endpoint list: parameters, bearer auth, bodies and response media types.

Bodies are declared by media type only (a JSON object, or raw bytes); the fields of each are in the guides until
every operation gets a schema of its own. Every 4xx and 5xx answer is the error envelope, and that is declared.
"""

from __future__ import annotations

import re
from typing import Any

from controller.docs.routes import ENDPOINTS, server_version

#: Operations that read a JSON object from the request body.
JSON_BODIES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/auth/wallet/challenge"),
        ("POST", "/api/v1/auth/wallet/verify"),
        ("POST", "/api/v1/feedback"),
        ("POST", "/api/v1/projects"),
        ("PUT", "/api/v1/projects/{name}"),
        ("POST", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs/batch"),
        ("POST", "/api/v1/account/quotes/topup"),
        ("POST", "/api/v1/artifacts/direct"),
        ("POST", "/api/v1/artifacts/multipart"),
        ("POST", "/api/v1/artifacts/multipart/complete"),
        ("POST", "/api/v1/recipes/{name}/jobs"),
        ("POST", "/api/v1/admin/accounts"),
        ("POST", "/api/v1/admin/accounts/{account_id}/credit"),
        ("POST", "/api/v1/admin/accounts/{account_id}/debit"),
        ("POST", "/api/v1/admin/wallets"),
    }
)

#: Operations that read raw bytes from the request body, whatever its Content-Type (a push reads a gzip tarball).
RAW_BODIES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/projects/{name}/push"),
        ("POST", "/api/v1/artifacts"),
        ("PUT", "/api/v1/artifacts/direct/{token}"),
        ("PUT", "/api/v1/artifacts/multipart/{upload_id}/parts/{number}"),
    }
)

#: The optional query parameters and request headers each operation reads: (name, "query" | "header", JSON type).
#: An integer's bounds, an id's form and an enum's values are left to each route to check and to the guides.
PARAMETERS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("GET", "/api/v1/jobs"): (
        ("limit", "query", "integer"),
        ("status", "query", "string"),
        ("project", "query", "string"),
        ("tag", "query", "string"),
        ("before", "query", "string"),
    ),
    ("POST", "/api/v1/jobs"): (("Idempotency-Key", "header", "string"),),
    ("POST", "/api/v1/jobs/batch"): (("Idempotency-Key", "header", "string"),),
    ("POST", "/api/v1/recipes/{name}/jobs"): (("Idempotency-Key", "header", "string"),),
    ("GET", "/api/v1/jobs/{job_id}/tasks"): (("limit", "query", "integer"), ("offset", "query", "integer")),
    ("GET", "/api/v1/jobs/{job_id}/output"): (("limit", "query", "integer"), ("offset", "query", "integer")),
    ("GET", "/api/v1/jobs/{job_id}/events"): (("limit", "query", "integer"), ("after", "query", "integer")),
    ("GET", "/api/v1/jobs/{job_id}/stream"): (
        ("last_event_id", "query", "integer"),
        ("Last-Event-ID", "header", "integer"),
    ),
    ("GET", "/api/v1/projects/{name}/stream"): (
        ("last_event_id", "query", "integer"),
        ("Last-Event-ID", "header", "integer"),
    ),
    ("GET", "/api/v1/jobs/watch"): (
        ("ids", "query", "string"),
        ("last_event_id", "query", "integer"),
        ("Last-Event-ID", "header", "integer"),
    ),
    ("GET", "/api/v1/account/ledger"): (("limit", "query", "integer"), ("before", "query", "integer")),
    ("POST", "/api/v1/account/quotes/{quote_id}/pay/x402"): (("PAYMENT-SIGNATURE", "header", "string"),),
    ("GET", "/api/v1/artifacts"): (
        ("limit", "query", "integer"),
        ("before", "query", "string"),
        ("prefix", "query", "string"),
    ),
    ("POST", "/api/v1/artifacts"): (
        ("filename", "query", "string"),
        ("X-Artifact-Filename", "header", "string"),
        ("X-Artifact-Sha256", "header", "string"),
    ),
    ("GET", "/api/v1/artifacts/{artifact_id}"): (
        ("Range", "header", "string"),
        ("If-Range", "header", "string"),
        ("If-None-Match", "header", "string"),
    ),
    ("PUT", "/api/v1/artifacts/multipart/{upload_id}/parts/{number}"): (
        ("sig", "query", "string"),
        ("X-Part-Sha256", "header", "string"),
    ),
    ("GET", "/api/v1/admin/feedback"): (
        ("limit", "query", "integer"),
        ("before", "query", "integer"),
        ("type", "query", "string"),
    ),
}

#: Operations whose successful answer is not JSON, with its media type (their errors are still the JSON envelope).
NOT_JSON: dict[tuple[str, str], str] = {
    ("GET", "/metrics"): "text/plain",
    ("GET", "/skill.md"): "text/markdown",
    ("GET", "/llms.txt"): "text/plain",
    ("GET", "/llms-full.txt"): "text/plain",
    ("GET", "/docs"): "text/html",
    ("GET", "/docs/downloads/{filename}"): "application/octet-stream",
    ("GET", "/api/v1/artifacts/{artifact_id}"): "application/octet-stream",
    ("GET", "/api/v1/jobs/{job_id}/stream"): "text/event-stream",
    ("GET", "/api/v1/jobs/watch"): "text/event-stream",
    ("GET", "/api/v1/projects/{name}/stream"): "text/event-stream",
}

#: Operations whose 402 is not an error but a payment request: the quote and its x402 requirements.
PAYMENT_REQUESTS: frozenset[tuple[str, str]] = frozenset(
    {("POST", "/api/v1/account/quotes/topup"), ("POST", "/api/v1/account/quotes/{quote_id}/pay/x402")}
)

#: The body of every 4xx and 5xx answer (ComputalotError.to_json).
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "recommended_action", "details"],
            "properties": {
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "recommended_action": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def openapi() -> dict[str, Any]:
    """An OpenAPI 3.1 document of every client-facing route (ENDPOINTS), with bearer auth where needed."""
    paths: dict[str, Any] = {}
    for method, path, auth, summary in ENDPOINTS:
        paths.setdefault(path, {})[method.lower()] = operation(method, path, auth, summary)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Computalot", "version": server_version()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_ENVELOPE},
        },
        "paths": paths,
    }


def operation(method: str, path: str, auth: bool, summary: str) -> dict[str, Any]:
    """One operation: its parameters, request body, responses and security."""
    result: dict[str, Any] = {"summary": summary, "responses": responses(method, path)}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]
    parameters += [
        {"name": name, "in": where, "required": False, "schema": {"type": kind}}
        for name, where, kind in PARAMETERS.get((method, path), ())
    ]
    if parameters:
        result["parameters"] = parameters
    body = request_body(method, path)
    if body:
        result["requestBody"] = body
    result["security"] = [{"bearer": []}] if auth else []
    return result


def request_body(method: str, path: str) -> dict[str, Any] | None:
    """The request body an operation reads, by media type; None when it reads none."""
    if (method, path) in JSON_BODIES:
        return {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    if (method, path) in RAW_BODIES:
        binary = {"type": "string", "format": "binary"}
        return {"required": True, "content": {"application/octet-stream": {"schema": binary}}}
    return None


def responses(method: str, path: str) -> dict[str, Any]:
    """Success in the operation's media type; every 4xx and 5xx as the error envelope."""
    error = {"description": "The error envelope", "content": {"application/json": {"schema": ERROR_REF}}}
    media_type = NOT_JSON.get((method, path))
    success = {media_type: {}} if media_type else {"application/json": {"schema": {"type": "object"}}}
    result: dict[str, Any] = {"2XX": {"description": "Success", "content": success}, "4XX": error, "5XX": error}
    if (method, path) in PAYMENT_REQUESTS:
        result["402"] = {"description": "The quote and its x402 requirements", "content": success}
    return result
