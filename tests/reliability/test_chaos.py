"""The reliability harness (bench/chaos.py, `scripts/chaos`) at the test suite's sizes: each scenario's goals
(no acknowledged write lost, no 5xx, no invariant broken, every abuse bounded) must hold. The full sizes and
their figures: `scripts/chaos`, quoted in docs/reliability.md."""

from __future__ import annotations

import pytest
from bench import chaos

from azemu.testing import AzemuServer


def _met(fig: chaos.Figures) -> None:
    assert fig.met(), f"{fig.scenario}: {fig.values} (goals {fig.goals})\n" + "\n".join(fig.notes)


@pytest.mark.slow
def test_sigkill_at_random_and_chosen_points_loses_nothing_acknowledged():
    fig = chaos.crash(kills=4, seed=7)
    _met(fig)
    assert fig.values["acked writes checked (all audits)"] > 0


def test_sigterm_finishes_in_flight_keeps_the_clock_and_resumes_operations():
    _met(chaos.sigterm())


def test_racing_clients_get_success_or_conflicts_and_invariants_hold():
    fig = chaos.race(clients=8, per_client=4)
    _met(fig)
    assert fig.values["conflicts"] > 0  # they did race


def test_fuzzed_and_abusive_requests_never_get_a_5xx():
    fig = chaos.fuzz(requests=400, slow=1.0)
    _met(fig)
    assert fig.values["distinct rejection codes"] >= 3


@pytest.mark.slow
def test_resource_abuse_is_bounded_and_others_are_served():
    fig = chaos.bounds(group_size=200, regions=5, replicas=10)
    _met(fig)


def test_soak_keeps_memory_and_files_flat():
    fig = chaos.soak(seconds=20, rate=20)
    assert fig.values["5xx"] == 0 and fig.values["health"] == "ok", fig.values


def test_health_reports_a_nearly_full_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AZEMU_MIN_FREE_MB", str(1024**3))  # more than any disk has: "nearly full"
    with AzemuServer(data_dir=tmp_path, in_memory=False) as emu:
        health = emu.admin("GET", "/health")
    assert health["status"] == "degraded"
    assert [p["code"] for p in health["problems"]] == ["DiskNearlyFull"]
    assert health["durability"].startswith("persistent")
