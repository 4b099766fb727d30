"""Alembic environment: runs on the connection that ``services.storage.migrate`` passes in.

There is no alembic.ini: the configuration is built in code, so that migrations run the
same from a checkout and from an installed package.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from services.storage.schema import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through services.storage.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: later migrations rebuild tables in batch mode.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
