"""Storage accounts (``Microsoft.Storage/storageAccounts``), as far as Azure Backup needs one: a restore names
a storage account (``az backup restore restore-disks --storage-account``), and the service writes the
restored VM's configuration and the template that recreates it there, as blobs.

azemu serves the account's ARM face (create, show, list, keys, delete) and those blobs only, each behind a
SAS URL signed with the account's key (``/_azemu/blob/...``, read by ``server/``); it serves no other Blob,
File, Queue or Table data plane. A deployment may name such a blob as its ``templateLink``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.parse
import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import regions
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Storage/storageAccounts"
KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Storage",
    lifecycle=SIMPLE_LIFECYCLE,
    shape={"location": str, "tags": dict, "sku": {"name": str}, "kind": str, "properties": dict},
    operations={},
    description="Storage accounts: the ARM resource, its keys, and the blobs a backup restore writes (the VM "
    "configuration and template) behind SAS URLs; no other data plane.",
)
_NAME = re.compile(r"^[a-z0-9]{3,24}$")
BLOB_PATH = "/_azemu/blob"
SAS_VERSION = "2022-11-02"


def _invalid_name(name: str) -> AzureError:
    return AzureError(
        f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters "
        "in length and use numbers and lower-case letters only.",
        code="AccountNameInvalid",
        status=400,
    )


class StorageAccounts:
    def __init__(self, store: Store, clock: Clock, groups: ResourceGroups, registry: Registry) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        registry.register(KIND, self)

    # the kind's face ---------------------------------------------------------------------------------
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = dict(rec.body["properties"])
        props["provisioningState"] = SIMPLE_LIFECYCLE.provisioning_state(rec.state)
        return envelope(rec, props)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    def put(self, w: Write) -> Written:
        body = w.body
        name = w.rid.rstrip("/").rsplit("/", 1)[1]
        if not _NAME.match(name):
            raise _invalid_name(name)
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            if existing is None:
                taken = [r for r in tx.list_resources(type=TYPE) if r.name.lower() == name.lower()]
                if taken:
                    raise AzureError(
                        f"The storage account named {name} is already taken.",
                        code="StorageAccountAlreadyTaken",
                        status=409,
                    )
                if not body.get("location"):
                    raise LocationRequired("The location property is required for this definition.")
                loc = regions.require(str(body["location"]))
                sku = str((body.get("sku") or {}).get("name") or "Standard_RAGRS")
                now = self.clock.now()
                props = dict(body.get("properties") or {})
                endpoints = {
                    svc: f"https://{name}.{svc}.core.windows.net/"
                    for svc in ("blob", "queue", "table", "file")
                }
                computed = {
                    "primaryEndpoints": {**endpoints, "dfs": f"https://{name}.dfs.core.windows.net/"},
                    "primaryLocation": loc,
                    "statusOfPrimary": "available",
                    "creationTime": iso(now),
                    "accessTier": props.get("accessTier") or "Hot",
                    "supportsHttpsTrafficOnly": True,
                    "minimumTlsVersion": props.get("minimumTlsVersion") or "TLS1_2",
                    "allowBlobPublicAccess": bool(props.get("allowBlobPublicAccess", False)),
                    "encryption": {
                        "services": {"blob": {"enabled": True, "keyType": "Account"}},
                        "keySource": "Microsoft.Storage",
                    },
                    "keyCreationTime": {"key1": iso(now), "key2": iso(now)},
                }
                doc = {
                    "tags": dict(body.get("tags") or {}),
                    "sku": {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"},
                    "kind": str(body.get("kind") or "StorageV2"),
                    "properties": {**props, **computed},
                }
                keys = [base64.b64encode(secrets.token_bytes(64)).decode() for _ in range(2)]
                rec = self.tracked.new_record(tx, w.rid, TYPE, loc, doc, internal={"keys": keys, "blobs": {}})
                return Written(rec, True, None)
            if body.get("tags") is not None:
                existing.body["tags"] = dict(body["tags"])
            self.tracked.save(tx, existing)
            return Written(existing, False, None)

    def check_name(self, name: str) -> dict[str, Any]:
        """``checkNameAvailability``: account names are global (az asks before it creates one)."""
        if not _NAME.match(name):
            return {
                "nameAvailable": False,
                "reason": "AccountNameInvalid",
                "message": _invalid_name(name).message,
            }
        with self.store.read() as tx:
            taken = any(r.name.lower() == name.lower() for r in tx.list_resources(type=TYPE))
        if taken:
            return {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The storage account named {name} is already taken.",
            }
        return {"nameAvailable": True}

    def keys(self, rid: str) -> dict[str, Any]:
        rec = self.get(rid)
        created = rec.body["properties"].get("creationTime")
        return {
            "keys": [
                {"keyName": f"key{i + 1}", "value": k, "permissions": "FULL", "creationTime": created}
                for i, k in enumerate(rec.internal["keys"])
            ]
        }

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    # blobs -------------------------------------------------------------------------------------------
    def require_in(self, tx: Txn, rid: str) -> ResourceRecord:
        return self.tracked.require(tx, rid)

    def write_blob(self, tx: Txn, account: ResourceRecord, container: str, blob: str, data: bytes) -> None:
        account.internal.setdefault("blobs", {})[f"{container}/{blob}"] = base64.b64encode(data).decode()
        self.tracked.save(tx, account)

    @staticmethod
    def _sign(account: ResourceRecord, container: str, blob: str, expiry: str) -> str:
        key = base64.b64decode(account.internal["keys"][0])
        text = f"r\n{expiry}\n/blob/{account.name}/{container}/{blob}\n{SAS_VERSION}"
        return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()

    def sas_url(
        self, account: ResourceRecord, base_url: str, container: str, blob: str, seconds: float
    ) -> str:
        """A read SAS URL for a blob, valid ``seconds`` of azemu's clock."""
        expiry = iso(self.clock.now() + seconds)[:19] + "Z"
        query = urllib.parse.urlencode(
            {
                "sv": SAS_VERSION,
                "sr": "b",
                "sp": "r",
                "se": expiry,
                "sig": self._sign(account, container, blob, expiry),
            }
        )
        return f"{base_url}{BLOB_PATH}/{account.name}/{container}/{blob}?{query}"

    def blob_url(self, account: ResourceRecord, container: str, blob: str) -> str:
        return f"{account.body['properties']['primaryEndpoints']['blob']}{container}/{blob}"

    def read_blob(self, account_name: str, container: str, blob: str, query: dict[str, str]) -> bytes:
        """A blob, if the SAS in ``query`` was signed with the account's key and has not expired."""
        with self.store.read() as tx:
            found = [r for r in tx.list_resources(type=TYPE) if r.name.lower() == account_name.lower()]
        if not found:
            raise AzureError("The specified resource does not exist.", code="ResourceNotFound", status=404)
        account = found[0]
        expiry = query.get("se", "")
        good = hmac.compare_digest(self._sign(account, container, blob, expiry), query.get("sig", ""))
        if not good:
            raise AzureError(
                "Server failed to authenticate the request. Make sure the value of Authorization header is "
                "formed correctly including the signature.",
                code="AuthenticationFailed",
                status=403,
            )
        if iso(self.clock.now())[:19] + "Z" > expiry:
            raise AzureError("Signed expiry time has passed.", code="AuthenticationFailed", status=403)
        data = account.internal.get("blobs", {}).get(f"{container}/{blob}")
        if data is None:
            raise AzureError("The specified blob does not exist.", code="BlobNotFound", status=404)
        return base64.b64decode(data)

    def linked_template(self, uri: str) -> dict[str, Any] | None:
        """A deployment's ``templateLink``: the template, if the URI is one of azemu's blob SAS URLs."""
        parsed = urllib.parse.urlsplit(uri)
        if not parsed.path.startswith(BLOB_PATH + "/"):
            return None
        parts = parsed.path[len(BLOB_PATH) + 1 :].split("/", 2)
        if len(parts) != 3:
            return None
        query = dict(urllib.parse.parse_qsl(parsed.query))
        try:
            data = self.read_blob(parts[0], parts[1], parts[2], query)
        except AzureError:
            return None
        value = json.loads(data)
        return value if isinstance(value, dict) else None


def new_container_name(vm_name: str) -> str:
    return f"{vm_name.lower()[:30]}-{uuid.uuid4().hex}"
