"""Swagger UI for the OpenAPI document, from vendored assets (no CDN)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("docs", __name__)


@bp.get("/api/v1/docs")
def swagger_ui() -> Any:
    return render_template("swagger.html")
