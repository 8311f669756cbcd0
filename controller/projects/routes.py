"""Project routes: create, read, update, delete, push code, readiness, and the funded init."""

from __future__ import annotations

import re
import time

import peewee as pw
from aiohttp import web

from broker.statuses import UNFINISHED_JOB
from controller.accounts.auth import account_of, require_writer
from controller.agents.roster import ROSTER
from controller.billing import accounts, ledger
from controller.billing.errors import Shortfall
from controller.billing.service import refuse
from controller.core.body import read_body
from controller.core.errors import Conflict, ValidationFailed, field_error
from controller.core.ids import new_id
from controller.core.web import SETTINGS, STORE, iso, json_response, not_found, read_json
from controller.jobs.models import Job
from controller.live.models import Event
from controller.projects.models import Project, Revision
from controller.projects.publish import prepare_revision, publish_revision
from controller.projects.tarball import PUSH_TOO_LARGE_ACTION, Limits
from controller.projects.views import project_json

routes = web.RouteTableDef()

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_FIELDS = {"name", "remote_dir", "description"}
#: longest text field values (remote_dir's column holds 500; PostgreSQL stores no NUL in text)
_TEXT_LIMITS = {"remote_dir": 500, "description": 10_000}

#: Available balance a project init needs (init itself is free).
INIT_MINIMUM_MICRO = 5 * ledger.MICRO_PER_USD


def own_project(request: web.Request) -> Project:
    name = request.match_info["name"]
    project = Project.get_or_none(Project.account == account_of(request).id, Project.name == name)
    if project is None:
        raise not_found("project", name)
    return project


def active_revision(project: Project) -> Revision | None:
    return Revision.get_or_none(Revision.project == project.id, Revision.number == project.active_revision)


def _check_fields(body: object, allowed: set[str]) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    errors = [
        field_error(k, f"unknown field; allowed: {', '.join(sorted(allowed))}") for k in sorted(set(body) - allowed)
    ]
    for key, limit in _TEXT_LIMITS.items():
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(field_error(key, "must be a string"))
        elif len(value) > limit or any(ord(c) < 32 and c not in "\t\n" for c in value):
            errors.append(field_error(key, f"must be at most {limit} characters, without NUL or control characters"))
    if errors:
        raise ValidationFailed(errors)
    return body


@routes.post("/api/v1/projects")
async def create_project(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    body = _check_fields(await read_json(request, 64 * 1024), _FIELDS)
    name = body.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationFailed(
            [field_error("name", "must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")]
        )

    def create() -> Project:
        now = time.time()
        return Project.create(
            id=new_id("prj"),
            account=account,
            name=name,
            remote_dir=body.get("remote_dir"),
            description=body.get("description") or "",
            created_at=now,
            updated_at=now,
        )

    try:
        project = await request.app[STORE].write(create)
    except pw.IntegrityError:
        raise Conflict(f"you already have a project named {name!r}", details={"project": name}) from None
    return json_response(project_json(project, None), status=201)


@routes.get("/api/v1/projects")
async def list_projects(request: web.Request) -> web.Response:
    projects = Project.select().where(Project.account == account_of(request).id).order_by(Project.name)
    return json_response({"projects": [project_json(p, active_revision(p)) for p in projects]})


@routes.get("/api/v1/projects/{name}")
async def get_project(request: web.Request) -> web.Response:
    project = own_project(request)
    return json_response(project_json(project, active_revision(project)))


@routes.put("/api/v1/projects/{name}")
async def update_project(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    project = own_project(request)
    body = _check_fields(await read_json(request, 64 * 1024), {"remote_dir", "description"})

    def update() -> Project:
        for key, value in body.items():
            setattr(project, key, value if key == "remote_dir" else value or "")
        project.updated_at = time.time()
        project.save()
        return project

    project = await request.app[STORE].write(update)
    return json_response(project_json(project, active_revision(project)))


@routes.delete("/api/v1/projects/{name}")
async def delete_project(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    project = own_project(request)

    def delete() -> int:
        active = Job.select().where(Job.project == project.id, Job.status.in_(UNFINISHED_JOB)).count()
        if not active:
            project.delete_instance(recursive=True)
        return active

    active = await request.app[STORE].write(delete)
    if active:
        raise Conflict(
            f"project {project.name!r} has {active} active jobs",
            recommended_action="Cancel or wait for its jobs, then delete again.",
        )
    return json_response({"deleted": project.name})


@routes.post("/api/v1/projects/{name}/push")
async def push_project(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    project = own_project(request)
    settings = request.app[SETTINGS]
    data = await read_body(request, settings.max_push_bytes, PUSH_TOO_LARGE_ACTION)
    limits = Limits(max_compressed_bytes=settings.max_push_bytes)
    prepared = await request.app[STORE].read(prepare_revision, data, settings.revisions_dir, limits)
    body = await request.app[STORE].write(publish_revision, project.id, prepared)
    return json_response(body, status=201 if body["published"] else 200)


@routes.get("/api/v1/projects/{name}/status")
async def project_status(request: web.Request) -> web.Response:
    project = own_project(request)
    revision = active_revision(project)
    runtime = (revision.manifest.get("runtime") or {}).get("kind", "process") if revision else None
    agents = [a for a in request.app[ROSTER].live() if runtime in a.capabilities.runtimes]
    ready = [a for a in agents if revision and revision.content_hash in a.revisions]
    return json_response(
        {
            "project": project.name,
            "active_revision": project.active_revision or None,
            "content_hash": revision.content_hash if revision else None,
            "runtime": runtime,
            "can_accept_new_jobs": revision is not None and bool(agents),
            "ready_for_jobs": bool(ready),
            "nodes_ready": len(ready),
            "nodes_total": len(agents),
        }
    )


@routes.post("/api/v1/projects/{name}/init")
async def init_project(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    project = own_project(request)
    try:
        event = await request.app[STORE].write(_request_init, account.id, project)
    except Shortfall as short:
        raise await refuse(request.app, short, f"POST /api/v1/projects/{project.name}/init") from None
    return json_response(
        {
            "project": project.name,
            "status": "init_requested",
            "active_revision": project.active_revision or None,
            "requested_at": iso(event.created_at),
            "event_seq": event.id,
        },
        status=202,
    )


def _request_init(account_id: str, project: Project) -> Event:
    """Record an init request; refuse with a Shortfall below the minimum available balance."""
    available = accounts.balance(account_id).available_micro
    if available < INIT_MINIMUM_MICRO:
        raise Shortfall(account_id, INIT_MINIMUM_MICRO, available)
    now = time.time()
    data = {"status": "requested", "active_revision": project.active_revision or None}
    return Event.create(account=account_id, project=project.id, kind="init", data=data, created_at=now)
