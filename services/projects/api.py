"""HTTP for pilot programs and projects (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.clock import today_in
from jixiao.platform.web.context import actor, db, runtime
from jixiao.services.programs import service as programs
from jixiao.services.programs.schemas import (
    PageQuerySchema,
    ProgramCreateSchema,
    ProgramSchema,
    ProgramUpdateSchema,
)
from jixiao.tenants.schemas import page_schema

from . import service
from .schemas import ProjectCreateSchema, ProjectQuerySchema, ProjectSchema

blp = Blueprint("projects", __name__, url_prefix="/api/v1", description="试点与试点项目")

ProgramPage = page_schema(ProgramSchema, "ProgramPage")
ProjectPage = page_schema(ProjectSchema, "ProjectPage")


@blp.route("/programs")
class Programs(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, ProgramPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Programs the caller's branch takes part in (the province: all of its own)."""
        return programs.list_programs(db(), actor(), **args)

    @blp.arguments(ProgramCreateSchema)
    @blp.response(201, ProgramSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a pilot program (province admin)."""
        program = programs.create_program(db(), actor(), data)
        db().commit()
        return program


@blp.route("/programs/<int:program_id>")
class ProgramById(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self, program_id: int) -> Any:
        """One program with its effective settings (defaults + overrides)."""
        return programs.get_program(db(), actor(), program_id)

    @blp.arguments(ProgramUpdateSchema)
    @blp.response(200, ProgramSchema)
    def patch(self, data: dict[str, Any], program_id: int) -> Any:
        """The province edits a program: name, dates, deadlines, participants, settings. `version`
        is required (a stale one: 409); a participant that already has projects cannot be removed."""
        version = data.pop("version")
        program = programs.update_program(db(), actor(), program_id, version, data)
        db().commit()
        return program


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(ProjectQuerySchema, location="query")
    @blp.response(200, ProjectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Projects of the caller's tenant and the tenants below it."""
        return service.list_projects(db(), actor(), **args)

    @blp.arguments(
        ProjectCreateSchema,
        example={
            "program_id": 1,
            "name": "兴庆区老旧小区改造项目",
            "department": "兴庆区住房和城乡建设局",
            "implementing_unit": "兴庆区城市建设服务中心",
            "budget_amount": "1250000.00",
            "fund_source": "一般公共预算",
            "project_class": "工程基建",
            "years": [2023],
            "serves_public": True,
        },
    )
    @blp.response(201, ProjectSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a project of the caller's tenant in a program it takes part in (limit per tenant)."""
        project = service.create_project(db(), actor(), data, today_in(runtime().settings.timezone))
        db().commit()
        return project


@blp.route("/projects/<int:project_id>")
class ProjectById(MethodView):
    @blp.response(200, ProjectSchema)
    def get(self, project_id: int) -> Any:
        """A project with its current stage and each stage's status, deadline and overdue flag."""
        return service.get_project(db(), actor(), project_id)
