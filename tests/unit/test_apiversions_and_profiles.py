import pytest

from azemu.clock.profiles import INSTANT, parse_profile
from azemu.domain import apiversions, vm
from azemu.domain.errors import (
    InvalidApiVersionParameter,
    MissingApiVersionParameter,
    NoRegisteredProviderFound,
)


def test_known_version_is_served_as_is():
    assert (
        apiversions.check("Microsoft.Resources", "resourceGroups", "2024-11-01", loose=False).version
        == "2024-11-01"
    )


def test_missing_version():
    with pytest.raises(MissingApiVersionParameter):
        apiversions.check("Microsoft.Resources", "resourceGroups", None, loose=False)


def test_newer_version_is_served_as_newest_known_with_warning():
    newest = apiversions.supported("Microsoft.Compute", "galleries")[0]
    got = apiversions.check("Microsoft.Compute", "galleries", "2099-01-01", loose=False)
    assert got.version == newest
    assert got.warning and "2099-01-01" in got.warning


def test_unknown_old_version_is_refused_as_azure_words_it():
    with pytest.raises(NoRegisteredProviderFound) as info:
        apiversions.check("Microsoft.Compute", "galleries", "2022-08-01", loose=False)
    assert (
        "No registered resource provider found for location 'eastus' and API version '2022-08-01'"
        in info.value.message
    )
    assert "'2026-03-03, 2025-03-03" in info.value.message
    with pytest.raises(InvalidApiVersionParameter) as info2:
        apiversions.check("Microsoft.Resources", "resourceGroups", "2011-01-01", loose=False)
    assert info2.value.message.startswith(
        "The api-version '2011-01-01' is invalid. The supported versions are '"
    )


def test_loose_accepts_anything():
    assert apiversions.check("Microsoft.Compute", "galleries", "banana", loose=True).version == "banana"


def test_profiles():
    assert parse_profile("instant") is INSTANT
    deallocate = vm.KIND.operations["deallocate"]  # the VM kind declares real Azure's 30 s
    assert deallocate == 30.0
    assert parse_profile("realistic").scale(deallocate) == 30.0
    assert parse_profile("scaled:0.5").scale(deallocate) == 15.0
    assert INSTANT.scale(deallocate) == 0.0 and INSTANT.instant
    for bad in ("fast", "scaled:0", "scaled:-1", "scaled:x"):
        with pytest.raises(ValueError):
            parse_profile(bad)
