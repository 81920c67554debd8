"""Every blueprint of the application, in one place (STYLE.md: flaskr)."""

from __future__ import annotations

from jixiao.services.assessment import api as assessment_api
from jixiao.services.assessment import views as assessment_pages
from jixiao.services.evaluation import api as evaluation_api
from jixiao.services.evaluation import views as evaluation_pages
from jixiao.services.evaluation.key import api as key_evaluation_api
from jixiao.services.evidence import api as evidence_api
from jixiao.services.evidence import views as evidence_pages
from jixiao.services.grants import api as grants_api
from jixiao.services.grants import views as grants_pages
from jixiao.services.indicators import api as indicators_api
from jixiao.services.indicators import views as indicators_pages
from jixiao.services.monitoring import api as monitoring_api
from jixiao.services.monitoring import views as monitoring_pages
from jixiao.services.notifications import api as notifications_api
from jixiao.services.notifications import views as notifications_pages
from jixiao.services.programs import views as programs_pages
from jixiao.services.projects import api as projects_api
from jixiao.services.projects import views as projects_pages
from jixiao.services.province import api as province_api
from jixiao.services.province import api_export as province_export_api
from jixiao.services.province import views as province_pages
from jixiao.services.reports import api as reports_api
from jixiao.services.reports import views as reports_pages
from jixiao.services.results import api as results_api
from jixiao.services.results import views as results_pages
from jixiao.services.spotchecks import api as spot_checks_api
from jixiao.services.spotchecks import views as spotchecks_pages
from jixiao.services.targets import api as targets_api
from jixiao.services.targets import views as targets_pages
from jixiao.services.tasks import api as tasks_api
from jixiao.services.tasks import views as tasks_pages

from . import oauth
from .api import platform as platform_api
from .api import tenants as tenants_api
from .views import admin, auth, docs, home, system

API_BLUEPRINTS = [
    platform_api.blp,
    tenants_api.blp,
    indicators_api.blp,
    projects_api.blp,
    assessment_api.blp,
    targets_api.blp,
    monitoring_api.blp,
    evaluation_api.blp,
    key_evaluation_api.blp,
    results_api.blp,
    reports_api.blp,
    province_api.blp,
    province_export_api.blp,
    spot_checks_api.blp,
    grants_api.blp,
    evidence_api.blp,
    tasks_api.blp,
    notifications_api.blp,
]

PAGE_BLUEPRINTS = [
    oauth.bp,
    auth.bp,
    home.bp,
    admin.bp,
    docs.bp,
    system.bp,
    indicators_pages.bp,
    programs_pages.bp,
    projects_pages.bp,
    assessment_pages.bp,
    targets_pages.bp,
    monitoring_pages.bp,
    evaluation_pages.bp,
    results_pages.bp,
    reports_pages.bp,
    province_pages.bp,
    spotchecks_pages.bp,
    evidence_pages.bp,
    grants_pages.bp,
    tasks_pages.bp,
    notifications_pages.bp,
]
