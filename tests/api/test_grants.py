"""Third-party grants through HTTP (issue 13 item 1): a bureau admin grants 宁夏绩评 actions on one
project until an expiry; the evaluator then reads exactly that project — through the granted actions
only — and nothing else of the tenant (404, absent from every list); revoked or expired, 403 with the
reason and the date; every grant, revocation and use is audited; the bad input and illegal moves."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.core.db import utcnow
from jixiao.services.grants.models import Grant
from jixiao.tenants.models import EvaluatorOrg
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture()
def org_id(runtime) -> int:
    with runtime.db.transaction(system="test: the demo evaluator organisation") as s:
        return s.execute(
            select(EvaluatorOrg.id).where(EvaluatorOrg.name == "宁夏绩评咨询有限公司")
        ).scalar_one()


@pytest.fixture()
def projects(api, unique) -> tuple[int, int]:
    """Two projects of 兴庆区 in one program: the first granted, the second not."""
    program = create_program(api, unique, 10)
    first = new_project(api, program, unique)["id"]
    second = new_project(api, program, f"{unique}b")["id"]
    through_assessment(api, first)
    return first, second


def give(api, pid: int, org_id: int, actions: list[str], expires_at: str = TOMORROW, user: str = "xq.admin"):
    return api.as_user(user).post(
        f"/api/v1/projects/{pid}/grants",
        json={"evaluator_org_id": org_id, "actions": actions, "expires_at": expires_at},
    )


def test_the_evaluator_sees_the_granted_project_and_nothing_else(api, runtime, org_id, projects):
    granted, other = projects
    made = give(api, granted, org_id, ["read", "key_evaluation", "evidence_read"])
    assert made.status_code == 201, made.get_json()
    grant = made.get_json()
    assert grant["status"] == "active" and grant["evaluator_org_name"] == "宁夏绩评咨询有限公司"
    # a file the evaluator may read (evidence_read), uploaded by the editor
    uploaded = api.as_user("xq.editor").post(
        f"/api/v1/projects/{granted}/evidence",
        data={
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 256), "立项依据.pdf"),
            "stage": "assessment",
            "purpose": "立项依据",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()

    evaluator = api.as_user("eval.ningping")
    shown = evaluator.get(f"/api/v1/projects/{granted}")
    assert shown.status_code == 200 and shown.get_json()["id"] == granted
    assert evaluator.get(f"/api/v1/projects/{other}").status_code == 404  # same tenant, no grant
    listed = {p["id"] for p in evaluator.get("/api/v1/projects?page_size=200").get_json()["items"]}
    assert granted in listed and other not in listed  # (other tests' grants may list theirs)
    assert evaluator.get(f"/api/v1/projects/{granted}/assessment").status_code == 200
    files = evaluator.get(f"/api/v1/projects/{granted}/evidence")
    assert files.status_code == 200 and [f["filename"] for f in files.get_json()] == ["立项依据.pdf"]
    assert evaluator.get(f"/api/v1/evidence/{uploaded.get_json()['id']}/download").status_code in (200, 302)
    # not granted: uploading, writing the project's stages
    refused = evaluator.post(
        f"/api/v1/projects/{granted}/evidence",
        data={
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 256), "x.pdf"),
            "stage": "assessment",
            "purpose": "其他",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 403 and "evidence_write" in refused.get_json()["message"]
    assert (
        evaluator.put(
            f"/api/v1/projects/{granted}/targets", json={"overall_goal": "x", "indicators": []}
        ).status_code
        == 403
    )
    # its own grants; the province sees every grant; the sibling none of this one
    assert [g["id"] for g in evaluator.get("/api/v1/grants").get_json()["items"]][:1] == [grant["id"]]
    assert grant["id"] in {g["id"] for g in api.as_user("nx.admin").get("/api/v1/grants").get_json()["items"]}
    assert grant["id"] not in {
        g["id"] for g in api.as_user("xx.admin").get("/api/v1/grants").get_json()["items"]
    }
    # every request that relied on the grant is in the audit trail
    with runtime.db.transaction(system="test: read the audit trail") as s:
        uses = (
            s.execute(
                select(AuditEvent.after).where(
                    AuditEvent.action == "grants.use",
                    AuditEvent.object_id == str(granted),
                    AuditEvent.username == "eval.ningping",
                )
            )
            .scalars()
            .all()
        )
        made_events = (
            s.execute(
                select(AuditEvent.action).where(
                    AuditEvent.object_id == str(granted), AuditEvent.action == "grants.grant"
                )
            )
            .scalars()
            .all()
        )
    assert {u["path"] for u in uses} >= {
        f"/api/v1/projects/{granted}",
        f"/api/v1/projects/{granted}/evidence",
    }
    assert made_events == ["grants.grant"]


def test_revoked_or_expired_is_403_with_the_reason(api, runtime, org_id, projects):
    granted, other = projects
    grant = give(api, granted, org_id, ["read"]).get_json()
    evaluator = api.as_user("eval.ningping")
    assert evaluator.get(f"/api/v1/projects/{granted}").status_code == 200
    revoked = api.as_user("xq.admin").delete(
        f"/api/v1/projects/{granted}/grants/{grant['id']}", json={"reason": "评价合同终止"}
    )
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    after = evaluator.get(f"/api/v1/projects/{granted}")
    assert after.status_code == 403 and "撤销" in after.get_json()["message"]
    assert date.today().isoformat() in after.get_json()["message"]
    assert (
        api.as_user("xq.admin").delete(f"/api/v1/projects/{granted}/grants/{grant['id']}").status_code == 409
    )
    # a grant past its expiry gives nothing (checked at the second: no cache outlives it)
    second = give(api, other, org_id, ["read"]).get_json()
    assert evaluator.get(f"/api/v1/projects/{other}").status_code == 200
    with runtime.db.transaction(system="test: the grant runs out") as s:
        s.execute(
            update(Grant).where(Grant.id == second["id"]).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = evaluator.get(f"/api/v1/projects/{other}")
    assert expired.status_code == 403 and "到期" in expired.get_json()["message"]
    listed = {p["id"] for p in evaluator.get("/api/v1/projects?page_size=200").get_json()["items"]}
    assert granted not in listed and other not in listed


def test_bad_input_and_illegal_moves(api, org_id, projects):
    granted, _ = projects
    late = (date.today() + timedelta(days=365 * 80)).isoformat()
    bad = give(api, granted, org_id + 999, ["read", "score_everything"], expires_at="2020-01-01")
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert {"evaluator_org_id", "actions", "expires_at"} <= set(errors)
    assert "score_everything" in errors["actions"][0] and "不存在" in errors["evaluator_org_id"][0]
    too_late = give(api, granted, org_id, ["read"], expires_at=late)
    assert too_late.status_code == 422 and "试点结束后一年" in too_late.get_json()["errors"]["expires_at"][0]
    strangers = api.as_user("xq.admin").post(
        f"/api/v1/projects/{granted}/grants",
        json={"evaluator_org_id": org_id, "actions": ["read"], "expires_at": TOMORROW, "user_ids": [1]},
    )
    assert strangers.status_code == 422 and "user_ids" in strangers.get_json()["errors"]
    assert give(api, granted, org_id, ["read"], user="xq.editor").status_code == 403  # not an admin
    assert give(api, granted, org_id, ["read"], user="yc.admin").status_code == 403  # the city above reads
    assert give(api, granted, org_id, ["read"], user="xx.admin").status_code == 404  # a sibling
    assert api.as_user("xx.admin").get(f"/api/v1/projects/{granted}/grants").status_code == 404
    assert api.as_user("yc.admin").get(f"/api/v1/projects/{granted}/grants").status_code == 200
    # nothing was written by the refused attempts
    assert api.as_user("xq.admin").get(f"/api/v1/projects/{granted}/grants").get_json()["total"] == 0
    # an evaluator never held a grant on it: it does not exist for it
    assert api.as_user("eval.ningping").get(f"/api/v1/projects/{granted}").status_code == 404


def test_the_walls_hold_for_every_kind_of_row(api, runtime, org_id, projects):
    """In the evaluator's own walled session, rows of the project without a grant — its stages, its
    assessment, lines reached through a parent — are simply not there."""
    from jixiao.services.assessment.models import Assessment
    from jixiao.services.projects.models import Project, ProjectStage
    from jixiao.services.targets.models import TargetLine
    from jixiao.tenants.models import User
    from jixiao.tenants.service import build_actor
    from tests.api.test_work_queue import review, submit_targets

    granted, other = projects
    through_assessment(api, other)
    submit_targets(api, other)
    review(api, "xq.dept", other, "approve")
    review(api, "xq.admin", other, "approve")
    assert give(api, granted, org_id, ["read"]).status_code == 201
    with runtime.db.transaction(system="test: the evaluator's actor") as s:
        user = s.execute(select(User).where(User.username == "eval.ningping")).scalar_one()
        evaluator = build_actor(s, user)
    assert evaluator.granted(granted, "read") and not evaluator.granted(other, "read")
    with runtime.db.transaction(evaluator) as s:
        assert other not in set(s.execute(select(Project.id)).scalars())
        assert other not in set(s.execute(select(ProjectStage.project_id)).scalars())
        assert other not in set(s.execute(select(Assessment.project_id)).scalars())
    with runtime.db.transaction(system="test: the other project's lines exist") as s:
        from jixiao.services.targets.models import TargetSet

        other_lines = set(
            s.execute(select(TargetLine.id).join(TargetSet).where(TargetSet.project_id == other)).scalars()
        )
    assert other_lines
    with runtime.db.transaction(evaluator) as s:
        assert not other_lines & set(s.execute(select(TargetLine.id)).scalars())


def test_a_grant_about_to_expire_is_a_reminder_to_both_sides(api, settings, real_services, org_id, projects):
    from tests.api.test_work_queue import notes
    from tests.support.cli import run_cli

    granted, _ = projects
    assert give(api, granted, org_id, ["read"]).status_code == 201  # until tomorrow
    for _ in range(2):  # once, however often the daily job runs
        ran = run_cli(settings, real_services, "remind", "--today", date.today().isoformat())
        assert ran.returncode == 0, ran.stderr
    for user in ("eval.ningping", "xq.admin"):
        [reminder] = [
            n for n in notes(api, user, granted) if n["kind"] == "reminder" and "授权即将到期" in n["title"]
        ]
        assert "宁夏绩评咨询有限公司" in reminder["title"] and "剩余 1 天" in reminder["title"], user
    assert [n for n in notes(api, "xq.editor", granted) if "授权即将到期" in n["title"]] == []


def test_an_evaluator_with_evidence_write_uploads_its_report(api, org_id, projects):
    granted, _ = projects
    assert give(api, granted, org_id, ["read", "evidence_read", "evidence_write"]).status_code == 201
    uploaded = api.as_user("eval.ningping").post(
        f"/api/v1/projects/{granted}/evidence",
        data={
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 256), "评价工作底稿.pdf"),
            "stage": "assessment",
            "purpose": "其他",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    listed = api.as_user("xq.editor").get(f"/api/v1/projects/{granted}/evidence").get_json()
    assert "评价工作底稿.pdf" in {f["filename"] for f in listed}
