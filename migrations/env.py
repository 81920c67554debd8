"""Alembic environment: one metadata for every capability; batch mode so SQLite can ALTER."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from jixiao.platform.core.config import Settings
from jixiao.platform.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        section = config.get_section(config.config_ini_section) or {}
        section["sqlalchemy.url"] = url
        connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql" and not connection.in_transaction():
        # the owner migrates every tenant's rows: past the row-level security it installs, which
        # binds a non-superuser owner too (FORCE; platform/core/rls.py)
        connection.exec_driver_sql("SELECT set_config('jixiao.bypass', 'on', false)")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
