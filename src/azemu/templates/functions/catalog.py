"""The function tables: the pure ARM functions, and the full table deployments evaluate with.

Both are built once and shared (tables are immutable). Azure Policy will start from :func:`pure_functions` and add
its own (``field()``, ``current()``, ...) with :meth:`FunctionTable.with_functions`.
"""

from __future__ import annotations

from functools import cache

from . import collections, dates, lambdas, logical, network, numeric, strings
from .table import FunctionTable


@cache
def pure_functions() -> FunctionTable:
    """ARM functions that need no deployment: logic, numbers, strings, arrays, objects, lambdas, dates, CIDR."""
    return FunctionTable(
        [
            *logical.SPECS,
            *numeric.SPECS,
            *strings.SPECS,
            *collections.SPECS,
            *lambdas.SPECS,
            *dates.SPECS,
            *network.SPECS,
        ]
    )


@cache
def arm_functions() -> FunctionTable:
    """Everything a deployment template may call, including ``parameters``, ``reference``, ``resourceId``, ``list*``."""
    from . import deployment

    return pure_functions().with_functions(*deployment.SPECS, fallback=deployment.list_fallback)
