"""What-if deltas, table-driven: (before, after) -> ARM's property changes. Add a row to add a case."""

from __future__ import annotations

import pytest

from azemu.domain import whatif

CASES = [
    # before, after, expected delta
    ({"a": 1}, {"a": 1}, []),
    ({"a": 1}, {"a": 2}, [{"path": "a", "propertyChangeType": "Modify", "before": 1, "after": 2}]),
    ({}, {"tags": {"x": "1"}}, [{"path": "tags", "propertyChangeType": "Create", "after": {"x": "1"}}]),
    ({"tags": {"x": "1"}}, {"tags": {}}, [{"path": "tags.x", "propertyChangeType": "Delete", "before": "1"}]),
    ({"p": {"q": {"r": "A"}}}, {"p": {"q": {"r": "a"}}}, []),  # strings compare case-insensitively
    (
        {"p": {"q": 1}},
        {"p": {"q": 1, "s": True}},
        [{"path": "p.s", "propertyChangeType": "Create", "after": True}],
    ),
    ({"n": 1}, {"n": True}, [{"path": "n", "propertyChangeType": "Modify", "before": 1, "after": True}]),
    ({"id": "x", "properties": {"provisioningState": "Succeeded"}}, {"id": "y", "properties": {}}, []),
    (
        {"l": [1, 2]},
        {"l": [1, 3, 4]},
        [
            {
                "path": "l",
                "propertyChangeType": "Array",
                "children": [
                    {"path": "1", "propertyChangeType": "Modify", "before": 2, "after": 3},
                    {"path": "2", "propertyChangeType": "Create", "after": 4},
                ],
            }
        ],
    ),
    (
        {"l": [{"name": "a", "v": 1}]},
        {"l": [{"name": "a", "v": 2}]},
        [
            {
                "path": "l",
                "propertyChangeType": "Array",
                "children": [
                    {
                        "path": "0",
                        "propertyChangeType": "Modify",
                        "children": [{"path": "v", "propertyChangeType": "Modify", "before": 1, "after": 2}],
                    }
                ],
            }
        ],
    ),
    (
        {"l": [1]},
        {"l": []},
        [
            {
                "path": "l",
                "propertyChangeType": "Array",
                "children": [{"path": "0", "propertyChangeType": "Delete", "before": 1}],
            }
        ],
    ),
]


@pytest.mark.parametrize(("before", "after", "expected"), CASES)
def test_delta(before, after, expected):
    assert whatif.delta(before, after) == expected


def test_predict_keeps_what_the_request_does_not_name():
    before = {"properties": {"a": 1, "b": {"c": 2}}, "tags": {}}
    after = whatif.predict(before, {"properties": {"b": {"d": 3}, "e": None}, "tags": {"t": "v"}})
    assert after == {"properties": {"a": 1, "b": {"c": 2, "d": 3}}, "tags": {"t": "v"}}
    assert before["tags"] == {}  # not modified in place


def test_change_types():
    assert whatif.change("r", None, {"a": 1})["changeType"] == "Create"
    assert whatif.change("r", {"a": 1}, None)["changeType"] == "Delete"
    assert whatif.change("r", {"a": 1}, {"a": 1}) == {
        "resourceId": "r",
        "changeType": "NoChange",
        "before": {"a": 1},
        "after": {"a": 1},
    }
    modified = whatif.change("r", {"a": 1}, {"a": 2})
    assert modified["changeType"] == "Modify" and modified["delta"][0]["path"] == "a"
