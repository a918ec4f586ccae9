"""The read-only admin page of the scheduled jobs, /admin/jobs (menu: Paramètres › Tâches
planifiées): each job with its schedule, last and next run, the process holding the scheduler
lease, and the latest runs (job, day, trigger, start, end, result, counts, message).

Shown to users who may read everything (`"*": [read]` in groups.yaml): the jobs touch all
entities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from app.engine.admin.auth import current_principal
from app.engine.jobs import last_runs, recent_runs, utcnow
from app.engine.scheduler import job_timezone, lease_holder, next_fire, read_states

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

RIGHT_ENTITY = "comptoir_job"  # no such entity: only a "*" read right opens the page
TRIGGERS = {"schedule": "planifiée", "catch_up": "rattrapage", "manual": "manuelle"}
RESULTS = {"ok": ("OK", "bg-success"), "error": ("Erreur", "bg-danger"), "running": ("En cours", "bg-info")}
PAGE_SIZE = 200


def _local(moment: Any) -> str:
    if moment is None:
        return "—"
    import datetime as dt

    return moment.replace(tzinfo=dt.timezone.utc).astimezone(job_timezone()).strftime("%d/%m/%Y %H:%M:%S")


def _page_data(rt: Runtime, job: str | None) -> dict[str, Any]:
    states, latest = read_states(rt), last_runs(rt)
    jobs = []
    for spec in rt.spec.jobs.values():
        state = states.get(spec.name)
        run = latest.get(spec.name)
        following = state.next_run_at if state is not None and state.cron == spec.cron else next_fire(spec, utcnow())
        jobs.append({
            "name": spec.name, "label": spec.label.fr, "cron": spec.cron, "verb": spec.verb, "enabled": spec.enabled,
            "last": f"{_local(run.started_at)} — {RESULTS.get(run.result, (run.result,))[0]}" if run is not None else "—",
            "next": _local(following) if spec.enabled else "désactivée",
        })
    runs = []
    for r in recent_runs(rt, job=job, limit=PAGE_SIZE):
        label, css = RESULTS.get(r.result, (r.result, "bg-secondary"))
        runs.append({
            "id": r.id, "job": r.job, "day": r.day.strftime("%d/%m/%Y"), "trigger": TRIGGERS.get(r.trigger, r.trigger),
            "started": _local(r.started_at), "ended": _local(r.ended_at), "result": label, "css": css,
            "counts": ", ".join(f"{k} : {v}" for k, v in (r.counts or {}).items()), "message": r.message or "", "owner": r.owner or "",
        })
    holder = lease_holder(rt)
    return {
        "jobs": jobs, "runs": runs, "selected": job,
        "lease": {"owner": holder[0], "until": _local(holder[1]), "active": holder[1] > utcnow()} if holder else None,
    }


def jobs_view(rt: Runtime) -> type[BaseView]:
    class JobsView(BaseView):
        name = "Tâches planifiées"
        icon = "fa-solid fa-clock-rotate-left"
        category = "Paramètres"

        def is_accessible(self, request: Request) -> bool:
            principal = current_principal(request)
            return principal is not None and principal.can(rt.spec, RIGHT_ENTITY, "read")

        @expose("/jobs", methods=["GET"], identity="jobs")
        async def jobs_page(self, request: Request) -> Response:
            job = request.query_params.get("job") or None
            job = job if job in rt.spec.jobs else None
            data = await anyio.to_thread.run_sync(_page_data, rt, job)
            context = {"title": "Tâches planifiées", **data}
            response: Response = await self.templates.TemplateResponse(request, "comptoir/jobs.html", context)
            return response

    return JobsView


def mount_jobs_admin(admin: Any, rt: Runtime) -> None:
    """Add the page to a mounted admin (app.state.admin)."""
    admin.add_view(jobs_view(rt))
