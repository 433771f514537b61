"""Database handle, naming convention and the column types every model uses."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement

from formats.text import SQL_FOLD_FROM, SQL_FOLD_TO, fold

#: Constraint names are stable across databases, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def now_utc() -> datetime:
    """The one source of "now" in the application: an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TitledEnum(enum.Enum):
    """An enum whose members carry a Russian display title: ``Member = ("value", "Заголовок")``."""

    def __new__(cls, value: str, title: str):
        obj = object.__new__(cls)
        obj._value_ = value
        obj.title = title
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.title) for m in cls]


def enum_column(enum_cls: type[enum.Enum], **kwargs) -> sa.Enum:
    """Store an enum by value as a string, with a CHECK constraint on every database."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=kwargs.pop("name", enum_cls.__name__.lower()),
        **kwargs,
    )


# ---------------------------------------------------------------------------------------------
# fold() in SQL: searching and sorting names alike on SQLite and PostgreSQL


class folded(FunctionElement):  # noqa: N801 - used like a SQL function: folded(Student.last_name)
    """A text column as :func:`formats.text.fold` makes it (case, ё→е), inside SQL.

    SQLite runs the Python ``fold`` itself (registered on every connection by
    :func:`register_sqlite_functions`); PostgreSQL lower-cases and translates the Russian letters
    with the table :mod:`formats.text` derives from ``fold``, so its result does not depend on the
    database's locale. Values compared with it are stored with single spaces already; the needle
    is folded in Python (``formats.text.like_contains``).
    """

    type = sa.String()
    inherit_cache = True
    name = "fold"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return f"fold({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _folded_default(element, compiler, **kw):
    return (f"lower(translate({compiler.process(element.clauses, **kw)}, "
            f"'{SQL_FOLD_FROM}', '{SQL_FOLD_TO}'))")


def _sqlite_fold(value):
    return None if value is None else fold(value)


#: How long a SQLite connection waits for another writer before giving up (set on connect).
SQLITE_BUSY_TIMEOUT_MS = 10000


def register_sqlite_functions(dbapi_connection) -> None:
    """Make ``fold(text)`` callable in SQLite's SQL (see :class:`folded`)."""
    dbapi_connection.create_function("fold", 1, _sqlite_fold, deterministic=True)
