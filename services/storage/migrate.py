"""Schema migrations: Alembic, configured in code so it runs from an installed package.

``upgrade`` is safe to run from several processes at once: it holds a PostgreSQL
advisory lock, or SQLite's write lock, for the whole upgrade, so the others wait and
then find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select

__all__ = [
    "MIGRATIONS_DIR",
    "UnversionedDatabase",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SCHEMA_LOCK_KEY = 0x6E657773666C6F77  # "newsflow": arbitrary pg_advisory_xact_lock key


class UnversionedDatabase(RuntimeError):
    """The database has newsflow tables but no migration history to upgrade from."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
            tables = set(inspect(conn).get_table_names())
            if "articles" in tables and "alembic_version" not in tables:
                raise UnversionedDatabase(
                    "this database was created before newsflow had migrations; "
                    "move it aside (or drop its tables) and start again"
                )
            command.upgrade(alembic_config(conn), revision)
