"""The controller's error tree. Each leaf has a stable `code` (API, never renamed) and an HTTP status."""

from __future__ import annotations

from typing import Any


class ComputalotError(Exception):
    """Base of every error the API answers with the JSON error envelope."""

    code = "internal_error"
    status = 500
    recommended_action = ""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, recommended_action: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if recommended_action:
            self.recommended_action = recommended_action

    def to_json(self) -> dict[str, Any]:
        """The error envelope of specs/JOBS.md."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "recommended_action": self.recommended_action,
                "details": self.details,
            }
        }


class BadRequest(ComputalotError):
    code, status = "bad_request", 400
    recommended_action = "Send a well-formed JSON body."


class Unauthorized(ComputalotError):
    code, status = "unauthorized", 401
    recommended_action = "Send 'Authorization: Bearer <token>' with an admin-issued flk_ key or an fls_ session token."


class Forbidden(ComputalotError):
    code, status = "forbidden", 403


class NotFound(ComputalotError):
    code, status = "not_found", 404


class Conflict(ComputalotError):
    code, status = "conflict", 409


class PayloadTooLarge(ComputalotError):
    code, status = "payload_too_large", 413


class TooDeep(ComputalotError):
    """JSON nested deeper than the platform reads (checked before decoding, so no input can exhaust the stack)."""

    code, status = "too_deep", 422
    recommended_action = "Flatten the JSON: at most 100 levels of nested arrays and objects."


class ValidationFailed(ComputalotError):
    """One or more fields are invalid; `details.fields` names each with what to change."""

    code, status = "validation_failed", 422
    recommended_action = "Fix the fields listed in details.fields and resend."

    def __init__(self, errors: list[dict[str, str]], message: str = "") -> None:
        self.errors = errors
        summary = message or "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(summary, details={"fields": errors})


class InvalidFanOut(ValidationFailed):
    code = "invalid_fan_out"


class InvalidManifest(ValidationFailed):
    code = "invalid_manifest"
    recommended_action = "Fix computalot.project.json as listed in details.fields and push again."


class InvalidTarball(ComputalotError):
    code, status = "invalid_tarball", 422
    recommended_action = (
        "Push a gzip-compressed tar of your project directory (tar czf code.tar.gz ...) with relative paths only."
    )


class NoCapableWorkers(ComputalotError):
    code, status = "no_capable_workers", 422
    recommended_action = "Change the job's requirements or runtime to one a live agent offers (see details.available)."


class NotReady(ComputalotError):
    code, status = "not_ready", 503
    recommended_action = "Retry in a few seconds."


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of `details.fields`."""
    return {"field": field, "message": message}
