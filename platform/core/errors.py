"""Domain exceptions. The web layer maps them to HTTP statuses in one handler (STYLE.md)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    status_name = "Bad Request"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    """Unknown, or belongs to a tenant the caller may not see (never confirm it exists)."""

    status = 404
    status_name = "Not Found"


class Forbidden(DomainError):
    status = 403
    status_name = "Forbidden"


class Conflict(DomainError):
    """Illegal state transition."""

    status = 409
    status_name = "Conflict"


class StaleVersion(Conflict):
    """Optimistic lock: the caller edited an older version."""


class ValidationFailed(DomainError):
    """Every field/row/rule at once in `errors`."""

    status = 422
    status_name = "Unprocessable Entity"


class ServiceUnavailable(DomainError):
    status = 503
    status_name = "Service Unavailable"


class WallViolation(RuntimeError):
    """A programming error: code tried to read or write across the tenant walls without escaping
    them explicitly. Never shown to users as such (it becomes a 500 and is logged)."""
