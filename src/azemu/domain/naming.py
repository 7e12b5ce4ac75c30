"""Name rules, checked before a name reaches the store or the filesystem."""

from __future__ import annotations

import re
import uuid

from azemu.domain.errors import AzureError, InvalidResourceName

_RG_ALLOWED = re.compile(r"[\w\-.()]", re.UNICODE)


class InvalidResourceGroup(AzureError):
    code, status = "InvalidResourceGroup", 400


def check_resource_group_name(name: str) -> None:
    """Azure: 1-90 letters, digits, ``-``, ``_``, ``.``, ``(``, ``)``; must not end with ``.``."""
    bad = "".join(sorted({c for c in name if not _RG_ALLOWED.fullmatch(c)}))
    if bad:
        raise InvalidResourceGroup(
            f"The provided resource group name '{name}' has these invalid characters: '{bad}'. The name can "
            "only be a letter, digit, '-', '.', '(', ')' or '_'. For more details, visit "
            "https://aka.ms/ResourceGroupNamingRestrictions."
        )
    if not 1 <= len(name) <= 90:
        raise InvalidResourceGroup(
            f"The provided resource group name '{name}' has an invalid length of '{len(name)}'. The name must be "
            "between 1 and 90 characters. For more details, visit https://aka.ms/ResourceGroupNamingRestrictions."
        )
    if name.endswith("."):
        raise InvalidResourceGroup(
            f"The provided resource group name '{name}' has these invalid trailing characters: '.'. The name "
            "can not end with characters: '.'. For more details, visit "
            "https://aka.ms/ResourceGroupNamingRestrictions."
        )


_GENERIC = re.compile(r"^[^<>%&:\\?/#*$^'\"|\x00-\x1f]{1,260}$")


def check_resource_name(name: str) -> None:
    """ARM's generic rule for any path segment naming a resource (what reaches storage keys)."""
    if not _GENERIC.match(name) or name in (".", "..") or name.endswith("."):
        raise InvalidResourceName(
            f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a "
            "word character, and it must end with a word character or with '_'. The name may contain word "
            "characters or '.', '-', '_'."
        )


def is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36
