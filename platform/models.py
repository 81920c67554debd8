"""Import every capability's models so the mappers (and Alembic's metadata) are complete.

The composition root: the app, the worker and the migrations import this one module."""

from __future__ import annotations

from jixiao.platform.core import audit, oauth_models  # noqa: F401
from jixiao.platform.core.db import Base
from jixiao.services.assessment import models as assessment_models  # noqa: F401
from jixiao.services.evaluation import models as evaluation_models  # noqa: F401
from jixiao.services.evaluation.key import models as key_evaluation_models  # noqa: F401
from jixiao.services.evidence import models as evidence_models  # noqa: F401
from jixiao.services.grants import models as grant_models  # noqa: F401
from jixiao.services.indicators import models as indicator_models  # noqa: F401
from jixiao.services.monitoring import models as monitoring_models  # noqa: F401
from jixiao.services.notifications import models as notification_models  # noqa: F401
from jixiao.services.programs import models as program_models  # noqa: F401
from jixiao.services.projects import models as project_models  # noqa: F401
from jixiao.services.reports import models as report_models  # noqa: F401
from jixiao.services.results import models as result_models  # noqa: F401
from jixiao.services.spotchecks import models as spot_check_models  # noqa: F401
from jixiao.services.targets import models as target_models  # noqa: F401
from jixiao.tenants import models as tenant_models  # noqa: F401

metadata = Base.metadata
