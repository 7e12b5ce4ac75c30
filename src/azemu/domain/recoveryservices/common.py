"""What Azure Backup and Site Recovery share: vault ids, child records under a vault, their documents and
the timestamps the Recovery Services RP writes (seven fractional digits and a ``Z``, as .NET does)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.errors import AzureError
from azemu.domain.resources import new_etag
from azemu.state.records import ResourceRecord
from azemu.state.store import Txn

NAMESPACE = "Microsoft.RecoveryServices"
VAULT = f"{NAMESPACE}/vaults"


def iso_z(ts: float) -> str:
    """``2026-07-26T13:03:14.6672816Z``: how the Recovery Services RP writes a time."""
    d = dt.datetime.fromtimestamp(ts, dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}0Z"


def parse_time(text: str) -> float:
    """A time as clients send it (``...Z``, ``+00:00``, or naive = UTC; .NET's seven digits allowed)."""
    value = text.strip().replace("Z", "+00:00")
    if "." in value:  # Python reads at most six fractional digits
        head, _, tail = value.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits) :]
        value = f"{head}.{digits[:6]}{zone}"
    d = dt.datetime.fromisoformat(value)
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.timestamp()


def duration(seconds: float) -> str:
    """An ISO 8601 duration as the service writes a job's: ``PT1M30.5S``."""
    seconds = max(0.0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{int(hours)}H"
    if minutes:
        out += f"{int(minutes)}M"
    if secs or out == "PT":
        out += f"{secs:.7f}".rstrip("0").rstrip(".") + "S"
    return out


def timespan(seconds: float) -> str:
    """A .NET TimeSpan as the service writes one: ``13.23:59:59``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}.{hours:02d}:{minutes:02d}:{secs:02d}"


def vault_id_of(rid: str) -> str:
    """The vault a child id lives in (``.../vaults/v/backupJobs/j`` -> ``.../vaults/v``)."""
    parts = rid.split("/")
    low = [p.lower() for p in parts]
    i = low.index("vaults")
    return "/".join(parts[: i + 2])


def child_id(vault_id: str, *path: str) -> str:
    return vault_id + "/" + "/".join(path)


def document(rec: ResourceRecord, properties: dict[str, Any], *, etag: bool = False) -> dict[str, Any]:
    """A vault child's document: ``{id, name, type, [eTag], properties}`` (no location, no tags)."""
    doc: dict[str, Any] = {"id": rec.id, "name": rec.name, "type": rec.type}
    if etag:
        doc["eTag"] = rec.etag.strip('"')
    doc["properties"] = properties
    return doc


class Children:
    """Records under a vault. Each keeps the vault's key as its parent key, so everything a vault holds
    lists with one indexed query, and the vault's location (its operations run there)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def new(
        self,
        tx: Txn,
        vault: ResourceRecord,
        rid: str,
        full_type: str,
        properties: dict[str, Any],
        *,
        state: str = "Succeeded",
        internal: dict[str, Any] | None = None,
        name: str | None = None,
        parent_key: str | None = None,
    ) -> ResourceRecord:
        now = self.clock.now()
        rec = ResourceRecord(
            id=rid,
            type=full_type,
            name=name or rid.rsplit("/", 1)[1],
            subscription_id=vault.subscription_id,
            resource_group=vault.resource_group,
            location=vault.location,
            state=state,
            body={"properties": properties},
            etag=new_etag(),
            created_at=now,
            changed_at=now,
            parent_key=parent_key or vault.key,
            internal=internal or {},
        )
        tx.put_resource(rec)
        return rec

    def save(self, tx: Txn, rec: ResourceRecord) -> None:
        rec.etag, rec.changed_at = new_etag(), self.clock.now()
        tx.put_resource(rec)

    @staticmethod
    def find(tx: Txn, rid: str) -> ResourceRecord | None:
        return tx.get_resource(ids.key_of(rid))

    @staticmethod
    def of(tx: Txn, parent: ResourceRecord, full_type: str) -> list[ResourceRecord]:
        """The records of ``full_type`` under ``parent`` (a vault, or a protected item for its points)."""
        return sorted(
            tx.list_resources(type=full_type, parent_key=parent.key), key=lambda r: (r.created_at, r.key)
        )


def not_served(method: str) -> AzureError:
    return AzureError(
        f"The requested resource does not support http method '{method}'.",
        code="MethodNotAllowed",
        status=405,
    )


_CLAUSE = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def parse_filter(text: str | None) -> dict[str, str]:
    """``backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'`` -> {name (lower-case): value}: the
    only ``$filter`` form the Backup and Site Recovery list APIs take."""
    out: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", text or "", flags=re.IGNORECASE):
        m = _CLAUSE.match(clause)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out
