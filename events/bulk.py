"""Rows appended to tables in bulk: COPY on PostgreSQL, executemany elsewhere (synthetic stories, imports).

Bulk writes send no signals and call no `save()`: the callers fill what `save()` would (a rendered
summary, the history) themselves.
"""

import contextlib
import datetime
from collections.abc import Callable, Sequence

from django.db import connection, models
from simple_history.utils import get_history_manager_for_model

# From how many rows PostgreSQL builds a table's indexes after the load rather than during it.
BULK_LOAD_ROWS = 50_000

# Called as progress("events", done, total): once with done=0 before the first batch, then after each.
Progress = Callable[[str, int, int], None]


# Statements that drop and recreate a table's non-unique indexes, then its foreign keys.
_DEFERRABLE_INDEXES = """
    SELECT format('DROP INDEX %%s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
    FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisunique ORDER BY i.indexrelid
"""
_FOREIGN_KEYS = """
    SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname),
           format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY oid
"""


class BulkWriter:
    """Appends rows to tables, by COPY on PostgreSQL and executemany elsewhere.

    A row is a tuple of the values of the columns named (attnames, such as "story_id"); every other
    column gets its model default, and auto_now / auto_now_add columns the moment of the run. Ids that
    other rows point to are taken beforehand with `ids()`, from the table's own sequence on PostgreSQL,
    so the sequence stays ahead of every row and the app's next insert cannot collide.
    """

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now
        self.postgresql = connection.vendor == "postgresql"
        self.written: set[type[models.Model]] = set()
        self._sequences: dict[str, str] = {}
        self._next_ids: dict[str, int] = {}

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        if not count:
            return []
        table, pk = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            if self.postgresql:
                if table not in self._sequences:
                    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
                    self._sequences[table] = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._sequences[table], count]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the database's write lock, so nobody else takes ids meanwhile,
            # and an explicit id moves an AUTOINCREMENT sequence on by itself.
            if table not in self._next_ids:
                quote = connection.ops.quote_name
                cursor.execute(f"SELECT COALESCE(MAX({quote(pk)}), 0) + 1 FROM {quote(table)}")  # noqa: S608 - quoted model names
                self._next_ids[table] = cursor.fetchone()[0]
            first = self._next_ids[table]
            self._next_ids[table] += count
            return list(range(first, first + count))

    def write(self, model: type[models.Model], names: Sequence[str], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        meta = model._meta
        given = [meta.get_field(name) for name in names]
        given_names = {field.attname for field in given}
        rest = [f for f in meta.concrete_fields if f.attname not in given_names and not f.primary_key]
        defaults = tuple(
            self.now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            for f in rest
        )
        fields = given + rest
        quote = connection.ops.quote_name
        table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
        self.written.add(model)
        with connection.cursor() as cursor:
            if self.postgresql:
                # psycopg adapts dates, times and strings itself, as it does for parameters.
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + defaults)
                return
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - quoted model names
                [
                    [f.get_db_prep_save(value, connection) for f, value in zip(fields, row + defaults, strict=True)]
                    for row in rows
                ],
            )

    @contextlib.contextmanager
    def indexes_built_after(self, tables: Sequence[type[models.Model]], *, rows: int, report: Progress):
        """Load a large batch of rows into `tables` without their secondary indexes and foreign keys,
        and build those again at the end, as pg_restore does.

        Building an index over a million rows is several times faster than adding a million entries to
        it one at a time (the readers' search index above all), and one join checks a foreign key faster
        than a trigger per row. Only on PostgreSQL, and only when the load at least doubles the first
        table: otherwise rebuilding over the rows already there costs more than it saves. Unique indexes
        stay, so uniqueness is checked as rows arrive. It all happens inside the transaction, so a
        failure puts every index and constraint back; meanwhile the tables are locked against others.
        """
        if not self.postgresql or rows < BULK_LOAD_ROWS or rows < self._estimated_rows(tables[0]):
            yield
            return
        rebuild = []
        with connection.cursor() as cursor:
            for model in tables:
                table = model._meta.db_table
                cursor.execute(_DEFERRABLE_INDEXES, [table])
                rebuild += cursor.fetchall()
                cursor.execute(_FOREIGN_KEYS, [table])
                rebuild += cursor.fetchall()
            # ALTER TABLE refuses a table with checks still deferred: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for drop, _ in rebuild:
                cursor.execute(drop)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Enough memory to sort in one pass (the default 64 MB makes the search index build crawl).
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            report("indexes", 0, len(rebuild))
            for done, (_, create) in enumerate(rebuild, start=1):
                cursor.execute(create)
                report("indexes", done, len(rebuild))
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _estimated_rows(self, model: type[models.Model]) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            return max(cursor.fetchone()[0], 0)

    def analyze(self, *more: type[models.Model]) -> None:
        """Give the planner statistics now rather than at autovacuum's convenience: without them,
        PostgreSQL takes a million-row table for an empty one and picks nested loops."""
        tables = sorted({m._meta.db_table for m in (*self.written, *more)})
        with connection.cursor() as cursor:
            if self.postgresql:
                cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
            else:
                cursor.execute("ANALYZE")


def record_history(
    model: type[models.Model],
    ids: Sequence[int],
    *,
    date: datetime.datetime,
    user_id: int | None,
    reason: str,
    history_type: str,
    m2m: Sequence[str] = (),
) -> list[tuple[int, int]]:
    """One history entry ("+" created, "~" changed) for each of the rows `ids`, copied from the rows as
    they are now, in one statement: what simple_history's bulk_history_create does by building every
    historical instance in Python (a fifth of an import's time, most of the overdue job's). The
    many-to-many fields named in `m2m` are copied too, one more statement each. Returns (history id,
    row id) pairs."""
    if not ids:
        return []
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    where, ids_params = among(pk, ids)
    with connection.cursor() as cursor:
        cursor.execute(
            history_insert_sql(model, f"{table} WHERE {where}"),
            [*history_params(date=date, user_id=user_id, reason=reason, history_type=history_type), *ids_params],
        )
        recorded = cursor.fetchall()
        if not m2m:
            return recorded
        history = get_history_manager_for_model(model).model
        history_pk = quote(history._meta.pk.column)
        where, ids_params = among(history_pk, [history_id for history_id, _ in recorded])
        entries = f"(SELECT {history_pk}, {pk} FROM {quote(history._meta.db_table)} WHERE {where})"  # noqa: S608
        for field in m2m:
            cursor.execute(m2m_history_insert_sql(model, field, entries), ids_params)
    return recorded


def history_params(*, date: datetime.datetime, user_id: int | None, reason: str, history_type: str) -> list:
    """The parameters history_insert_sql takes, in its order."""
    return [date, reason, history_type, user_id]


def history_insert_sql(model: type[models.Model], source: str) -> str:
    """An INSERT of one history entry for each row of `source` (the model's table with a WHERE, or a
    relation of its columns such as an UPDATE's RETURNING), copying its columns; the history's own
    columns come from the parameters of history_params. It returns (history id, row id) pairs."""
    history = get_history_manager_for_model(model).model
    own = {field.column for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in history._meta.concrete_fields if f.column in own)
    return (
        f"INSERT INTO {quote(history._meta.db_table)} ({columns}, history_date, history_change_reason,"  # noqa: S608 - quoted model names
        f" history_type, history_user_id) SELECT {columns}, %s, %s, %s, %s FROM {source}"
        f" RETURNING {quote(history._meta.pk.column)}, {quote(model._meta.pk.column)}"
    )


def m2m_history_insert_sql(model: type[models.Model], field: str, entries: str) -> str:
    """An INSERT of the history of the many-to-many `field` for the history entries `entries` (a
    relation of history_insert_sql's (history id, row id) pairs, by those names): each entry gets the
    relations its row has now, as simple_history copies them on a save."""
    relation = model._meta.get_field(field)
    through = relation.remote_field.through._meta
    history = get_history_manager_for_model(model).model
    recorded = getattr(history, field).model._meta
    quote = connection.ops.quote_name
    copied = [f.column for f in through.concrete_fields if f.column in {g.column for g in recorded.concrete_fields}]
    entry = quote(recorded.get_field("history").column)
    return (
        f"INSERT INTO {quote(recorded.db_table)} ({', '.join(quote(c) for c in copied)}, {entry})"  # noqa: S608 - quoted model names
        f" SELECT {', '.join('t.' + quote(c) for c in copied)}, e.{quote(history._meta.pk.column)}"
        f" FROM {quote(through.db_table)} t JOIN {entries} e"
        f" ON e.{quote(model._meta.pk.column)} = t.{quote(relation.m2m_column_name())}"
    )


def among_selected(column: str, select: str) -> str:
    """`column` is one of the ids `select` (a subquery's SQL) returns: on PostgreSQL `= ANY(ARRAY(...))`,
    so that the ids are gathered first and each row is then reached by its key (with `IN (...)` the
    planner may hash-join them against a scan of the whole table), elsewhere IN."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(ARRAY({select}))"
    return f"{column} IN ({select})"


def among(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column` is one of `ids`: on PostgreSQL one array parameter (no 10,000 placeholders to parse
    and plan), elsewhere IN."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def record_created(
    model: type[models.Model], ids: Sequence[int], *, date: datetime.datetime, user_id: int | None, reason: str
) -> None:
    """One "created" history entry for each of the rows `ids` (see record_history)."""
    record_history(model, ids, date=date, user_id=user_id, reason=reason, history_type="+")
