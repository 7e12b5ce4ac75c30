"""uniqueString() and guid() give Azure's values for the same inputs.

Sources of the expected values:

* Azure/bicep, src/Bicep.Core.UnitTests/TypeSystem/FunctionResolverTests.cs (GetLiteralTransformations): Bicep folds
  these calls with Microsoft's own evaluation library (Azure.Deployments.Expression), so the values are Azure's:
  uniqueString('snap', 'crackle', 'pop') == 'byghxckddilkc', guid('foo', 'bar', 'baz') ==
  '2ed86837-7c7c-5eaa-9864-dd077fd19b0d'.
* KingslandConsulting/Kingsland.ArmLinter, src/Kingsland.ArmLinter/Functions/ArmFunctions_UniqueString.cs: outputs of
  a real deployment (New-AzResourceGroupDeployment) of uniqueString('aaa'), ('bbb'), ('zzz'), ('xxx', 'yyy', 'zzz').
* A public shell reimplementation (uniquestring.sh, "verified against Bicep uniqueString() output") lists test
  vectors that also exercise the hash's tail handling (inputs of 3, 4, 11 and 73 bytes).
"""

from __future__ import annotations

import pytest

from azemu.templates.hashing import arm_guid, murmur_hash64, unique_string


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("snap", "crackle", "pop"), "byghxckddilkc"),  # Bicep FunctionResolverTests
        (("aaa",), "zavj67f3en4hc"),  # real deployment (Kingsland.ArmLinter)
        (("bbb",), "w5eragfxe33cy"),  # real deployment (Kingsland.ArmLinter)
        (("zzz",), "cryksdzzzawae"),  # real deployment (Kingsland.ArmLinter)
        (("xxx", "yyy", "zzz"), "lghi7k5js7itq"),  # real deployment (Kingsland.ArmLinter)
        (("test",), "rbgf3xv4ufgzg"),  # uniquestring.sh test vectors
        (("hello", "world"), "a7wkljktk6wne"),
        (("abc",), "cgtzqvhu4i23s"),
        (("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg",), "bmg7c6xu4tw46"),
        (("foo", "bar", "baz"), "xzi4ioaxtmth4"),
    ],
)
def test_unique_string_known_values(args: tuple[str, ...], expected: str) -> None:
    assert unique_string(*args) == expected


def test_guid_known_value() -> None:
    assert (
        arm_guid("foo", "bar", "baz") == "2ed86837-7c7c-5eaa-9864-dd077fd19b0d"
    )  # Bicep FunctionResolverTests


def test_unique_string_joins_with_dash() -> None:
    assert unique_string("a", "b") == unique_string("a-b")
    assert arm_guid("a", "b") == arm_guid("a-b")


def test_unique_string_shape() -> None:
    for n in range(40):  # every tail length of the 8-byte blocks
        s = unique_string("x" * n)
        assert len(s) == 13
        assert set(s) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_unique_string_is_case_sensitive() -> None:
    assert unique_string("ABC") != unique_string("abc")


def test_guid_is_version_5() -> None:
    g = arm_guid("anything")
    assert g[14] == "5"
    assert g[19] in "89ab"


def test_murmur_hash_uses_utf8() -> None:
    assert murmur_hash64("é".encode()) == murmur_hash64(b"\xc3\xa9")
    assert unique_string("é") != unique_string("e")
