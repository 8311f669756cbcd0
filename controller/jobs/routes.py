"""Job routes: submit, list, inspect, cancel, results."""

from __future__ import annotations

from aiohttp import web

from broker.messages import Control
from broker.statuses import JobStatus
from controller.accounts.auth import account_of, require_writer
from controller.agents.hub import HUB
from controller.artifacts.outputs import outputs_of_job
from controller.core.errors import Conflict, ValidationFailed, field_error
from controller.core.web import SETTINGS, STORE, int_query, json_response, not_found, read_json
from controller.jobs import outcomes
from controller.jobs.models import Job, JobTag, Task
from controller.jobs.spec import plan_of
from controller.jobs.submit import submit, submit_batch
from controller.jobs.views import job_json, job_summary, results_json, task_json
from controller.live.models import Event
from controller.live.views import event_json
from controller.projects.models import Project

routes = web.RouteTableDef()

#: What to do with a submission over the body limit.
LARGE_JOB_ACTION = (
    "Put large inputs in an artifact (POST /api/v1/artifacts) and pass its id in the payload's "
    "`_artifacts.download` (the task finds the file under COMPUTALOT_INPUT_DIR)."
)


def own_job(request: web.Request) -> Job:
    """The job named in the path, if it belongs to the caller (else 404)."""
    job_id = request.match_info["job_id"]
    job = Job.get_or_none(Job.id == job_id, Job.account == account_of(request).id)
    if job is None:
        raise not_found("job", job_id)
    return job


@routes.post("/api/v1/jobs")
async def submit_job(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    body = await read_json(request, request.app[SETTINGS].max_payload_bytes, LARGE_JOB_ACTION)
    job, created = await submit(request.app, account, body, idempotency_key=request.headers.get("Idempotency-Key"))
    return json_response(job_json(job), status=201 if created else 200)


@routes.post("/api/v1/jobs/batch")
async def submit_jobs(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    body = await read_json(request, 8 * request.app[SETTINGS].max_payload_bytes, LARGE_JOB_ACTION)
    outcomes = await submit_batch(request.app, account, body, idempotency_key=request.headers.get("Idempotency-Key"))
    return json_response({"results": outcomes})


@routes.get("/api/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    account = account_of(request)
    limit = int_query(request, "limit", 50, 1, 500)
    query = Job.select().where(Job.account == account.id)
    status = request.query.get("status")
    if status:
        if status not in frozenset(JobStatus):
            raise ValidationFailed([field_error("status", f"must be one of: {', '.join(JobStatus)}")])
        query = query.where(Job.status == status)
    if project := request.query.get("project"):
        query = query.join(Project).where(Project.name == project)
    if tag := request.query.get("tag"):
        query = query.where(Job.id.in_(JobTag.select(JobTag.job).where(JobTag.tag == tag)))
    if before := request.query.get("before"):
        anchor = Job.get_or_none(Job.id == before, Job.account == account.id)
        if anchor is None:
            raise ValidationFailed([field_error("before", "must be a job id from a previous page's next_before")])
        query = query.where(
            (Job.created_at < anchor.created_at) | ((Job.created_at == anchor.created_at) & (Job.id < anchor.id))
        )
    rows = list(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1))
    page = rows[:limit]
    return json_response(
        {"jobs": [job_summary(j) for j in page], "next_before": page[-1].id if len(rows) > limit else None}
    )


@routes.get("/api/v1/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    return json_response(job_json(own_job(request)))


@routes.get("/api/v1/jobs/{job_id}/tasks")
async def get_tasks(request: web.Request) -> web.Response:
    job = own_job(request)
    limit = int_query(request, "limit", 100, 1, 1000)
    offset = int_query(request, "offset", 0, 0, 10_000_000)
    plan = plan_of(job)
    tasks = list(Task.select().where(Task.job == job.id).order_by(Task.task_index).offset(offset).limit(limit))
    next_offset = offset + limit if offset + limit < job.task_count else None
    outputs = outputs_of_job(job.id, [t.id for t in tasks])
    return json_response(
        {
            "job_id": job.id,
            "total": job.task_count,
            "tasks": [
                task_json(t, t.payload if t.payload is not None else plan.task_payload(t.task_index), outputs.get(t.id))
                for t in tasks
            ],
            "next_offset": next_offset,
        }
    )


@routes.get("/api/v1/jobs/{job_id}/output")
async def get_output(request: web.Request) -> web.Response:
    job = own_job(request)
    limit = int_query(request, "limit", 100, 1, 1000)
    offset = int_query(request, "offset", 0, 0, 10_000_000)
    tasks = Task.select().where(Task.job == job.id).order_by(Task.task_index).offset(offset).limit(limit)
    return json_response(
        {
            "job_id": job.id,
            "status": job.status,
            "tasks": [
                {
                    "task_id": t.id,
                    "index": t.task_index,
                    "status": t.status,
                    "attempt": t.attempt,
                    "output": t.output_tail,
                }
                for t in tasks
            ],
        }
    )


@routes.get("/api/v1/jobs/{job_id}/events")
async def get_events(request: web.Request) -> web.Response:
    job = own_job(request)
    limit = int_query(request, "limit", 200, 1, 1000)
    after = int_query(request, "after", 0, 0, 2**62)
    rows = list(Event.select().where(Event.job == job.id, Event.id > after).order_by(Event.id).limit(limit))
    return json_response(
        {"job_id": job.id, "events": [event_json(e) for e in rows], "next_after": rows[-1].id if rows else after}
    )


@routes.put("/api/v1/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    job, changed = await request.app[STORE].write(outcomes.cancel_job, own_job(request).id)
    if changed and HUB in request.app:  # without a hub no agent is listening (create_app(background=False))
        await request.app[HUB].publish(Control(action="cancel", job_id=job.id))
    elif job.status != JobStatus.CANCELLED:
        raise Conflict(f"job {job.id} already ended as {job.status}", details={"status": job.status})
    return json_response(job_json(job))


@routes.get("/api/v1/results/{job_id}")
async def get_results(request: web.Request) -> web.Response:
    job = own_job(request)
    tasks = list(Task.select().where(Task.job == job.id).order_by(Task.task_index))
    return json_response(results_json(job, tasks))
