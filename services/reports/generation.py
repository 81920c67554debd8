"""Starting the jobs of this capability — a pilot report's next version and a program's 专报 — as
both the JSON API and the pages do (no Flask): the service checks and records the request, the
transaction commits, and only then is the job enqueued (a job must never find its request missing).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.jobs import Jobs

from . import briefing, service
from .models import PilotReport

GENERATE_JOB = "jixiao.services.reports.jobs.generate"
BRIEFING_JOB = "jixiao.services.reports.briefing.generate"


def start_report(session: Session, jobs: Jobs, actor: Actor, program_id: int) -> tuple[PilotReport, str]:
    """The caller's tenant's report in the program (made on first use) and the id of the job now
    building its next version. Commits `session`."""
    report, job_id = service.start_generation(session, actor, program_id)
    session.commit()
    jobs.enqueue(
        GENERATE_JOB,
        actor,
        report.id,
        description=f"生成试点报告 {report.owner.code}",
        timeout=900,
        job_id=job_id,
    )
    return report, job_id


def start_briefing(session: Session, jobs: Jobs, actor: Actor, program_id: int) -> str:
    """The id of the job now building the program's 专报 for the caller (403 for a county).
    Commits `session`."""
    briefing.check(session, actor, program_id)
    session.commit()
    return jobs.enqueue(BRIEFING_JOB, actor, program_id, description="生成专报", timeout=600)
