"""How ARM writes a deployment's fields, table-driven: add a row to add a case."""

from __future__ import annotations

import pytest

from azemu.domain import deployment_engine
from azemu.domain import deployment_views as views


@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("VMSS", "vmss"),  # az vmss create reads outputs['vmss'] (recorded real traffic)
        ("TRANS_Test", "tranS_Test"),  # Newtonsoft's rule, as Azure/bicep#9360 shows
        ("vmId", "vmId"),
        ("PublicIP", "publicIP"),
        ("URLValue", "urlValue"),
        ("X", "x"),
        ("", ""),
        ("already", "already"),
        ("ABCdef", "abCdef"),
    ],
)
def test_output_names_are_camel_cased_like_newtonsoft(name, camel):
    assert deployment_engine.camel(name) == camel


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (36.7284236, "PT36.7284236S"),
        (94.0335143, "PT1M34.0335143S"),
        (7201.5, "PT2H0M1.5S"),
        (-3, "PT0S"),
    ],
)
def test_durations_are_iso_8601(seconds, text):
    assert views.duration(seconds) == text


def test_timestamps_have_seven_fractional_digits_and_z():
    assert views.timestamp(1703000000.123456) == "2023-12-19T15:33:20.1234560Z"


def test_operation_ids_are_stable_and_hex():
    a = views.operation_id("/d", "/r")
    assert a == views.operation_id("/D", "/R") and len(a) == 16 and a == a.upper()
    int(a, 16)
