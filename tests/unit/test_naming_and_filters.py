import pytest

from azemu.domain import ids, regions
from azemu.domain.errors import InvalidResourceName
from azemu.domain.naming import InvalidResourceGroup, check_resource_group_name, check_resource_name
from azemu.domain.resources import InvalidFilter, parse_filter


@pytest.mark.parametrize("name", ["myRG", "a", "rg-1_(x).y", "x" * 90, "ünïcode"])
def test_valid_resource_group_names(name):
    check_resource_group_name(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad/name", "invalid characters: '/'"),
        ("x" * 91, "invalid length"),
        ("ends.", "trailing"),
        ("", "length"),
    ],
)
def test_invalid_resource_group_names(name, fragment):
    with pytest.raises(InvalidResourceGroup) as info:
        check_resource_group_name(name)
    assert fragment in info.value.message
    assert info.value.status == 400


@pytest.mark.parametrize("name", ["..", "a/b", "a\\b", "x\x00", "name.", "a:b"])
def test_names_that_could_escape_storage_are_refused(name):
    with pytest.raises(InvalidResourceName):
        check_resource_name(name)


def test_filter_parser():
    clauses = parse_filter("resourceType eq 'Microsoft.Compute/virtualMachines' and tagName eq 'env'")
    assert [(c.field, c.op, c.value) for c in clauses] == [
        ("resourceType", "eq", "Microsoft.Compute/virtualMachines"),
        ("tagName", "eq", "env"),
    ]
    assert parse_filter("substringof('web', name)")[0].op == "substringof"
    with pytest.raises(InvalidFilter):
        parse_filter("drop table")


def test_regions_map_display_names_both_ways():
    assert regions.canonical("East US 2") == "eastus2"
    assert regions.canonical("EASTUS2") == "eastus2"
    assert regions.display_name("westeurope") == "West Europe"
    assert regions.canonical("atlantis") is None


def test_ids_parse_nested_resource():
    p = ids.parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i")
    assert p is not None
    assert p.full_type == "Microsoft.Compute/galleries/images"
    assert p.name == "i"
    assert ids.parse("/not/an/id") is None
