"""Resource documents, operations and tenancy records behind one store interface."""

from azemu.state.records import (
    OperationRecord,
    ResourceRecord,
    ServicePrincipalRecord,
    SubscriptionRecord,
    TenantRecord,
)
from azemu.state.store import Store, Txn

__all__ = [
    "OperationRecord",
    "ResourceRecord",
    "ServicePrincipalRecord",
    "Store",
    "SubscriptionRecord",
    "TenantRecord",
    "Txn",
]
