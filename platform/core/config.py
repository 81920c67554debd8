"""Settings from environment variables (12-factor).

Every variable is listed in README.md with its default. Unset production variables mean the
embedded mode: SQLite file and local object folder under the instance directory, jobs run
in-process on fakeredis.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _flag(name: str, default: bool = False) -> bool:
    raw = _env(name)
    if not raw:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    redis_url: str
    secret_key: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    s3_region: str
    s3_public_endpoint: str
    demo_password: str
    behind_tls: bool
    log_level: str
    queue_name: str
    access_token_ttl: int
    refresh_token_ttl: int
    login_limit: str
    timezone: str
    max_upload_mib: int
    max_json_mib: int = 2  # cap on a JSON request body (413 beyond)
    # S3 uploads (platform/core/storage/multipart.py): the part size in MiB (at least 5) and how many
    # parts of one upload are sent at once; an upload holds (parallel + 1) parts in memory.
    s3_part_size_mib: int = 6
    s3_parallel_uploads: int = 2
    session_hours: int = 12  # a page session's absolute lifetime
    # Outbound notifications (email). Empty: nothing leaves the machine (in-app only).
    smtp_url: str = ""
    mail_from: str = "jixiao@localhost"
    base_url: str = ""
    # The audit chain's anchors (platform/core/audit_anchor.py): the Ed25519 key that signs them
    # (`jixiao audit anchor`), kept outside the database; the public key that checks them
    # (`jixiao audit verify --anchors`; derived from the signing key when only that is set).
    audit_anchor_key: str = field(default="", repr=False)
    audit_anchor_public_key: str = ""
    # Operations: the log format of every process (`text`, or `json`: one object per line,
    # platform/core/logs.py), and `jixiao serve` (gunicorn): its address, processes, threads per
    # process, seconds of silence before a worker is restarted, seconds to finish the requests in
    # flight after SIGTERM.
    log_format: str = "text"
    bind: str = "127.0.0.1:8000"
    web_workers: int = 2
    web_threads: int = 4
    web_timeout: int = 60
    web_graceful_timeout: int = 30
    # PostgreSQL's second wall (platform/core/rls.py): the role the app acts as — row-level security
    # binds it, as it owns no table (SET ROLE on each new connection; a no-op when DATABASE_URL
    # logs in as that role already). Empty: act as the connecting user (a superuser ignores RLS).
    db_role: str = "jixiao_app"
    # The owner's connection, for `jixiao db upgrade` only (the migrations create the tables, the
    # role above and its policies); empty: DATABASE_URL.
    migration_database_url: str = field(default="", repr=False)
    # The actors of bearer tokens kept between requests, at most this many seconds (0: never);
    # with Redis only — a change to a token, user, role or tenant ends them in every process at
    # once (platform/core/actor_cache.py).
    actor_cache_seconds: int = 300
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True when nothing external is configured (make run)."""
        return self.database_url.startswith("sqlite") and not self.redis_url and not self.s3_endpoint

    @property
    def owner_database_url(self) -> str:
        """The connection the migrations run on (the tables' owner)."""
        return self.migration_database_url or self.database_url

    @property
    def objects_dir(self) -> Path:
        return self.instance_dir / "objects"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        instance = Path(_env("JIXIAO_INSTANCE", "instance")).resolve()
        values: dict[str, object] = dict(
            instance_dir=instance,
            database_url=_env("DATABASE_URL", f"sqlite:///{instance / 'jixiao.db'}"),
            redis_url=_env("REDIS_URL"),
            secret_key=_env("SECRET_KEY"),
            s3_endpoint=_env("S3_ENDPOINT"),
            s3_access_key=_env("S3_ACCESS_KEY"),
            s3_secret_key=_env("S3_SECRET_KEY"),
            s3_bucket=_env("S3_BUCKET", "jixiao"),
            s3_region=_env("S3_REGION", "us-east-1"),
            s3_public_endpoint=_env("S3_PUBLIC_ENDPOINT"),
            demo_password=_env("JIXIAO_DEMO_PASSWORD", "Demo@2026"),
            behind_tls=_flag("JIXIAO_BEHIND_TLS"),
            log_level=_env("JIXIAO_LOG_LEVEL", "INFO").upper(),
            queue_name=_env("JIXIAO_QUEUE", "jixiao"),
            access_token_ttl=int(_env("JIXIAO_ACCESS_TOKEN_TTL", "3600")),
            refresh_token_ttl=int(_env("JIXIAO_REFRESH_TOKEN_TTL", str(14 * 24 * 3600))),
            login_limit=_env("JIXIAO_LOGIN_LIMIT", "5 per 15 minutes"),
            timezone=_env("JIXIAO_TIMEZONE", "Asia/Shanghai"),
            max_upload_mib=int(_env("JIXIAO_MAX_UPLOAD_MIB", "1024")),
            max_json_mib=int(_env("JIXIAO_MAX_JSON_MIB", "2")),
            s3_part_size_mib=int(_env("S3_PART_SIZE_MIB", "6")),
            s3_parallel_uploads=int(_env("S3_PARALLEL_UPLOADS", "2")),
            session_hours=int(_env("JIXIAO_SESSION_HOURS", "12")),
            smtp_url=_env("JIXIAO_SMTP_URL"),
            mail_from=_env("JIXIAO_MAIL_FROM", "jixiao@localhost"),
            base_url=_env("JIXIAO_BASE_URL").rstrip("/"),
            audit_anchor_key=_env("JIXIAO_AUDIT_ANCHOR_KEY"),
            audit_anchor_public_key=_env("JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY"),
            log_format=_env("JIXIAO_LOG_FORMAT", "text").lower(),
            bind=_env("JIXIAO_BIND", "127.0.0.1:8000"),
            web_workers=int(_env("JIXIAO_WEB_WORKERS", "2")),
            web_threads=int(_env("JIXIAO_WEB_THREADS", "4")),
            web_timeout=int(_env("JIXIAO_WEB_TIMEOUT", "60")),
            web_graceful_timeout=int(_env("JIXIAO_WEB_GRACEFUL_TIMEOUT", "30")),
            db_role=_env("JIXIAO_DB_ROLE", "jixiao_app"),
            migration_database_url=_env("MIGRATION_DATABASE_URL"),
            actor_cache_seconds=int(_env("JIXIAO_ACTOR_CACHE_SECONDS", "300")),
        )
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        if not settings.secret_key:
            settings = settings._with_instance_secret()
        return settings

    def _with_instance_secret(self) -> Settings:
        """Embedded mode keeps a generated key in the instance folder; production must set SECRET_KEY."""
        if not self.database_url.startswith("sqlite"):
            raise RuntimeError("SECRET_KEY must be set when DATABASE_URL points at a server database")
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        path = self.instance_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return Settings(**{**self.__dict__, "secret_key": path.read_text().strip()})
