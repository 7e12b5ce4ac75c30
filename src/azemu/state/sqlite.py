"""SQLite (WAL) implementation of the store, on SQLAlchemy Core.

One connection, serialised by a re-entrant lock: azemu serves from one event loop, and a single writer is
what SQLite wants anyway. WAL with ``synchronous=NORMAL``: a committed transaction is in the operating
system's hands when the client is answered, so killing azemu loses nothing acknowledged (tests/reliability);
a power loss may lose the last transactions before a checkpoint, never corrupting the database. ``FULL``
(an fsync per commit, 7.5x slower per write in bench/store.py) is there for whoever needs the stronger promise.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.pool import StaticPool

from azemu.state.records import (
    OperationRecord,
    ResourceRecord,
    ServicePrincipalRecord,
    SubscriptionRecord,
    TenantRecord,
)

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", String, primary_key=True),
    Column("data", Text, nullable=False),
)
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String, primary_key=True),
    Column("tenant_id", String, nullable=False, index=True),
    Column("data", Text, nullable=False),
)
service_principals = Table(
    "service_principals",
    metadata,
    Column("key", String, primary_key=True),
    Column("tenant_id", String, nullable=False, index=True),
    Column("data", Text, nullable=False),
)
resources = Table(
    "resources",
    metadata,
    Column("key", String, primary_key=True),
    Column("subscription_id", String, nullable=False),
    Column("resource_group", String),
    Column("type", String, nullable=False),
    Column("parent_key", String),
    Column("data", Text, nullable=False),
    Index("ix_resources_scope", "subscription_id", "resource_group", "type"),
    Index("ix_resources_parent", "parent_key"),
)
operations = Table(
    "operations",
    metadata,
    Column("id", String, primary_key=True),
    Column("status", String, nullable=False, index=True),
    Column("due_at", Float, nullable=False),
    Column("data", Text, nullable=False),
)
contents = Table(
    "contents",
    metadata,
    Column("key", String, primary_key=True),
    Column("data", Text, nullable=False),
)
blob_refs = Table(
    "blob_refs",
    metadata,
    Column("digest", String, primary_key=True),
    Column("count", Integer, nullable=False),
)
settings = Table(
    "settings",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Text, nullable=False),
)


# Point reads by primary key are the hot path (every ARM GET, every poll): they go straight to the DBAPI
# cursor of the same connection (same transaction), skipping SQLAlchemy's per-statement machinery, which
# costs several times the query itself. Everything else uses SQLAlchemy Core.
_GET_RESOURCE = "SELECT data FROM resources WHERE key = ?"
_GET_SUBSCRIPTION = "SELECT data FROM subscriptions WHERE id = ?"
_GET_OPERATION = "SELECT data FROM operations WHERE id = ?"
_CACHE_MAX = 50_000


def _dump(rec: Any) -> str:
    return orjson.dumps(rec).decode()  # orjson serializes dataclasses itself, without asdict's deep copy


def _upsert_sql(table: Table, pk: str) -> tuple[str, tuple[str, ...]]:
    """``INSERT … ON CONFLICT DO UPDATE`` for ``table``, built once (writes run on prebuilt SQL, as reads do)."""
    cols = tuple(c.name for c in table.columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != pk)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT({pk}) DO UPDATE SET {updates}"
    )
    return sql, cols


_UPSERTS = {
    t.name: _upsert_sql(t, pk)
    for t, pk in (
        (resources, "key"),
        (tenants, "id"),
        (subscriptions, "id"),
        (service_principals, "key"),
        (operations, "id"),
        (contents, "key"),
        (settings, "name"),
    )
}


def _upsert(raw: Any, table: Table, values: dict[str, Any]) -> None:
    sql, cols = _UPSERTS[table.name]
    raw.execute(sql, tuple(values[c] for c in cols))


class SqliteTxn:
    """``cache`` (read views only) holds committed resource documents as JSON text: immutable, so a reader
    can never alter it, and writes drop their key from it."""

    _savepoints = itertools.count(1)

    def __init__(self, conn: Connection, raw: Any, cache: dict[str, str], readonly: bool) -> None:
        self.conn = conn
        self.raw = raw  # the sqlite3.Connection under ``conn``
        self.cache = cache
        self.readonly = readonly

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        name = f"sp{next(self._savepoints)}"
        self.raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.raw.execute(f"ROLLBACK TO {name}")
            self.raw.execute(f"RELEASE {name}")
            self.cache.clear()  # a write undone here may have dropped or changed what the cache mirrors
            raise
        else:
            self.raw.execute(f"RELEASE {name}")

    def _point(self, sql: str, key: str) -> Any:
        row = self.raw.execute(sql, (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    # resources -------------------------------------------------------------------------------------
    def get_resource(self, key: str) -> ResourceRecord | None:
        text = self.cache.get(key)
        if text is None:
            row = self.raw.execute(_GET_RESOURCE, (key,)).fetchone()
            if row is None:
                return None
            text = row[0]
            if self.readonly and len(self.cache) < _CACHE_MAX:
                self.cache[key] = text
        return ResourceRecord(**orjson.loads(text))

    def put_resource(self, rec: ResourceRecord) -> None:
        self.cache.pop(rec.key, None)
        _upsert(
            self.raw,
            resources,
            {
                "key": rec.key,
                "subscription_id": rec.subscription_id.lower(),
                "resource_group": rec.resource_group.lower() if rec.resource_group else None,
                "type": rec.type.lower(),
                "parent_key": rec.parent_key,
                "data": _dump(rec),
            },
        )

    def delete_resource(self, key: str) -> None:
        self.cache.pop(key, None)
        self.raw.execute("DELETE FROM resources WHERE key = ?", (key,))

    def list_resources(
        self,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        type: str | None = None,
        parent_key: str | None = None,
    ) -> list[ResourceRecord]:
        q = select(resources.c.data)
        if subscription_id is not None:
            q = q.where(resources.c.subscription_id == subscription_id.lower())
        if resource_group is not None:
            q = q.where(resources.c.resource_group == resource_group.lower())
        if type is not None:
            q = q.where(resources.c.type == type.lower())
        if parent_key is not None:
            q = q.where(resources.c.parent_key == parent_key)
        q = q.order_by(resources.c.key)
        return [ResourceRecord(**orjson.loads(r[0])) for r in self.conn.execute(q)]

    # tenancy ---------------------------------------------------------------------------------------
    def get_tenant(self, tenant_id: str) -> TenantRecord | None:
        row = self.conn.execute(select(tenants.c.data).where(tenants.c.id == tenant_id.lower())).first()
        return TenantRecord(**orjson.loads(row[0])) if row else None

    def put_tenant(self, rec: TenantRecord) -> None:
        _upsert(self.raw, tenants, {"id": rec.id.lower(), "data": _dump(rec)})

    def list_tenants(self) -> list[TenantRecord]:
        rows = self.conn.execute(select(tenants.c.data).order_by(tenants.c.id))
        return [TenantRecord(**orjson.loads(r[0])) for r in rows]

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        data = self._point(_GET_SUBSCRIPTION, subscription_id.lower())
        return SubscriptionRecord(**data) if data else None

    def put_subscription(self, rec: SubscriptionRecord) -> None:
        values = {"id": rec.id.lower(), "tenant_id": rec.tenant_id.lower(), "data": _dump(rec)}
        _upsert(self.raw, subscriptions, values)

    def list_subscriptions(self, tenant_id: str | None = None) -> list[SubscriptionRecord]:
        q = select(subscriptions.c.data).order_by(subscriptions.c.id)
        if tenant_id is not None:
            q = q.where(subscriptions.c.tenant_id == tenant_id.lower())
        return [SubscriptionRecord(**orjson.loads(r[0])) for r in self.conn.execute(q)]

    def get_service_principal(self, client_id: str, tenant_id: str) -> ServicePrincipalRecord | None:
        key = f"{tenant_id}/{client_id}".lower()
        row = self.conn.execute(
            select(service_principals.c.data).where(service_principals.c.key == key)
        ).first()
        return ServicePrincipalRecord(**orjson.loads(row[0])) if row else None

    def put_service_principal(self, rec: ServicePrincipalRecord) -> None:
        key = f"{rec.tenant_id}/{rec.client_id}".lower()
        values = {"key": key, "tenant_id": rec.tenant_id.lower(), "data": _dump(rec)}
        _upsert(self.raw, service_principals, values)

    def list_service_principals(self, tenant_id: str | None = None) -> list[ServicePrincipalRecord]:
        q = select(service_principals.c.data).order_by(service_principals.c.key)
        if tenant_id is not None:
            q = q.where(service_principals.c.tenant_id == tenant_id.lower())
        return [ServicePrincipalRecord(**orjson.loads(r[0])) for r in self.conn.execute(q)]

    # operations ------------------------------------------------------------------------------------
    def get_operation(self, op_id: str) -> OperationRecord | None:
        data = self._point(_GET_OPERATION, op_id.lower())
        return OperationRecord(**data) if data else None

    def put_operation(self, rec: OperationRecord) -> None:
        values = {"id": rec.id.lower(), "status": rec.status, "due_at": rec.due_at, "data": _dump(rec)}
        _upsert(self.raw, operations, values)

    def list_operations(self, *, unfinished_only: bool = False) -> list[OperationRecord]:
        q = select(operations.c.data).order_by(operations.c.due_at)
        if unfinished_only:
            q = q.where(operations.c.status.not_in(["Succeeded", "Failed", "Canceled"]))
        return [OperationRecord(**orjson.loads(r[0])) for r in self.conn.execute(q)]

    # disk content --------------------------------------------------------------------------------------
    def get_content(self, key: str) -> str | None:
        row = self.raw.execute("SELECT data FROM contents WHERE key = ?", (key.lower(),)).fetchone()
        return str(row[0]) if row else None

    def put_content(self, key: str, data: str) -> None:
        _upsert(self.raw, contents, {"key": key.lower(), "data": data})

    def delete_content(self, key: str) -> None:
        self.conn.execute(delete(contents).where(contents.c.key == key.lower()))

    def list_content(self, owner: str | None = None) -> list[tuple[str, str]]:
        if owner is None:
            rows = self.raw.execute("SELECT key, data FROM contents ORDER BY key")
        else:
            k = owner.lower()
            # a range per separator rather than LIKE: resource names may contain LIKE's '_' and '%'
            rows = self.raw.execute(
                "SELECT key, data FROM contents WHERE key = ? OR (key > ? AND key < ?) OR (key > ? AND key < ?)",
                (k, k + "#", k + "#\uffff", k + "@", k + "@\uffff"),
            )
        return [(str(r[0]), str(r[1])) for r in rows]

    # content reference counts ------------------------------------------------------------------------
    def change_refs(self, deltas: dict[str, int]) -> None:
        for digest, delta in deltas.items():
            if delta:
                self.raw.execute(
                    "INSERT INTO blob_refs (digest, count) VALUES (?, ?) "
                    "ON CONFLICT(digest) DO UPDATE SET count = count + excluded.count",
                    (digest, delta),
                )

    def dead_refs(self) -> list[str]:
        return [r[0] for r in self.raw.execute("SELECT digest FROM blob_refs WHERE count <= 0")]

    def drop_refs(self, digests: list[str]) -> None:
        self.raw.executemany("DELETE FROM blob_refs WHERE digest = ? AND count <= 0", [(d,) for d in digests])

    def live_refs(self) -> list[str]:
        return [r[0] for r in self.raw.execute("SELECT digest FROM blob_refs WHERE count > 0")]

    def all_refs(self) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self.raw.execute("SELECT digest, count FROM blob_refs")}

    def set_refs(self, counts: dict[str, int]) -> None:
        self.raw.execute("DELETE FROM blob_refs")
        self.raw.executemany("INSERT INTO blob_refs (digest, count) VALUES (?, ?)", list(counts.items()))

    # settings --------------------------------------------------------------------------------------
    def get_setting(self, name: str) -> str | None:
        row = self.conn.execute(select(settings.c.value).where(settings.c.name == name)).first()
        return str(row[0]) if row else None

    def put_setting(self, name: str, value: str) -> None:
        _upsert(self.raw, settings, {"name": name, "value": value})


class _ReadView:
    __slots__ = ("store",)

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def __enter__(self) -> SqliteTxn:
        st = self.store
        st._lock.acquire()
        return SqliteTxn(st._conn, st._raw, st._cache, st._depth == 0)

    def __exit__(self, *exc: object) -> None:
        self.store._lock.release()


class SqliteStore:
    """``path=None`` keeps everything in memory (``--in-memory``)."""

    def __init__(self, path: Path | None, *, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        url = f"sqlite:///{path}" if path is not None else "sqlite://"
        self.engine = create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if path is not None:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        metadata.create_all(self.engine)
        self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._raw = self._conn.connection.dbapi_connection
        self._cache: dict[str, str] = {}
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[SqliteTxn]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield SqliteTxn(self._conn, self._raw, self._cache, False)
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self._conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield SqliteTxn(self._conn, self._raw, self._cache, False)
            except BaseException:
                self._conn.exec_driver_sql("ROLLBACK")
                raise
            else:
                self._conn.exec_driver_sql("COMMIT")
            finally:
                self._depth = 0

    def read(self) -> _ReadView:
        """A read-only view: no transaction opened, sees every committed write (a plain class, not a
        generator-based context manager: this runs on every request)."""
        return _ReadView(self)

    def reset(self) -> None:
        self._cache.clear()
        with self.transaction() as tx:
            for table in reversed(metadata.sorted_tables):
                tx.conn.execute(delete(table))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self.engine.dispose()
