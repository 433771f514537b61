"""The door's statements, run straight on the database driver's cursor.

A scan is two or three small statements. Through a SQLAlchemy ``Connection.execute`` each one
pays for the execution context, the result metadata and the events, about as much CPU as the
database needs to run it (bench/scan_bench.py, docs/performance.md «Отметка на входе»). A
:class:`DoorStatement` is still written as a Core statement and compiled by SQLAlchemy, once per
dialect; it keeps the SQL text, the constant parameters and SQLAlchemy's own type processors
(the same conversions as through SQLAlchemy: UTC datetimes, enums, JSON, booleans) and runs
them on the DBAPI cursor of a connection in autocommit.

Driver errors are raised as SQLAlchemy's exceptions (``IntegrityError`` for a lost race on a
unique index, ``connection_invalidated`` set when the connection is gone), as
``Connection.execute`` would.
"""

from __future__ import annotations

from collections import namedtuple

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound


class DoorStatement:
    """A Core statement run on the DBAPI cursor (see the module's docstring). Run it with
    :meth:`execute`, or give :meth:`statement_for` to ``Connection.execute`` (a transaction).

    ``dialects`` gives another form of the statement for a dialect by name (the same columns
    and parameters, written as that database plans best)."""

    def __init__(self, statement, *, dialects: dict | None = None):
        self.statement = statement
        self._variants = dialects or {}
        self._compiled: dict[str, _Compiled] = {}

    def statement_for(self, dialect_name: str):
        return self._variants.get(dialect_name, self.statement)

    def execute(self, conn: sa.Connection, parameters: dict | None = None) -> DoorResult:
        """Run on ``conn`` (a SQLAlchemy connection in autocommit) with ``parameters``."""
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(
                self.statement_for(dialect.name), dialect)
        params = compiled.parameters(parameters or {})
        dbapi_connection = conn.connection.dbapi_connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall() if compiled.returns_rows else []
        except dialect.loaded_dbapi.Error as err:
            disconnected = dialect.is_disconnect(err, dbapi_connection, cursor)
            if disconnected:
                conn.invalidate(err)
            raise DBAPIError.instance(compiled.sql, params, err, dialect.loaded_dbapi.Error,
                                      connection_invalidated=disconnected,
                                      dialect=dialect) from err
        finally:
            if cursor is not None:
                cursor.close()
        return DoorResult([compiled.row(r) for r in rows])


def run_door_statement(conn, statement: DoorStatement, parameters: dict | None = None):
    """``statement`` on ``conn``: a door (``checkin.door.connection``) runs it its way, a
    session or connection through SQLAlchemy."""
    execute_door = getattr(conn, "execute_door", None)
    if execute_door is not None:
        return execute_door(statement, parameters)
    dialect = conn.dialect if isinstance(conn, sa.Connection) else conn.get_bind().dialect
    return conn.execute(statement.statement_for(dialect.name), parameters)


class DoorResult:
    """The rows of a :class:`DoorStatement`, read as from a SQLAlchemy result."""

    __slots__ = ("rows",)

    def __init__(self, rows: list):
        self.rows = rows

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if not self.rows:
            raise NoResultFound("No row was found when one was required")
        if len(self.rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self.rows[0]

    def scalar_one(self):
        return self.one()[0]


class _Compiled:
    """A statement compiled for one dialect, with its parameter and result conversions."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        binds = compiled.binds
        required = {name for name, bind in binds.items() if bind.required}
        #: The statement's own values (``outcome = 'ok'``), by the names the SQL uses.
        self.constants = compiled.construct_params(dict.fromkeys(required))
        for name in required:
            del self.constants[name]
        self.bind_processors = {}
        for name in [*self.constants, *required]:
            processor = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        #: qmark dialects (SQLite) take a tuple in this order; pyformat ones a dict.
        self.positions = compiled.positiontup if compiled.positional else None
        columns = list(statement.exported_columns)
        self.returns_rows = bool(columns)
        self.row_type = namedtuple("DoorRow", [c.key for c in columns])
        self.result_processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._identity = all(p is None for p in self.result_processors)

    def parameters(self, given: dict):
        values = {**self.constants, **given}
        for name, processor in self.bind_processors.items():
            values[name] = processor(values[name])
        if self.positions is not None:
            return tuple(values[name] for name in self.positions)
        return values

    def row(self, raw):
        if self._identity:
            return self.row_type(*raw)
        return self.row_type(*[value if p is None else p(value)
                               for p, value in zip(self.result_processors, raw, strict=True)])
