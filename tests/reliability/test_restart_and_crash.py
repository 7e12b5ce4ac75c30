"""Persistence: stopping, restarting and crashing azemu loses no acknowledged write."""

from __future__ import annotations

import threading

from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup

from azemu.testing import AzemuServer


def test_restart_keeps_resources_and_operations(tmp_path):
    server = AzemuServer(data_dir=tmp_path, in_memory=False)
    with server:
        rm = ResourceManagementClient(server.credential(), server.subscription_id, **server.client_kwargs)
        rm.resource_groups.create_or_update("persist", ResourceGroup(location="eastus", tags={"k": "v"}))
        server.restart()
        rm = ResourceManagementClient(server.credential(), server.subscription_id, **server.client_kwargs)
        assert rm.resource_groups.get("persist").tags == {"k": "v"}


def test_crash_loses_no_acknowledged_write_and_resumes_operations(tmp_path):
    server = AzemuServer(data_dir=tmp_path, in_memory=False, latency="realistic")
    with server:
        sub = server.subscription_id
        acknowledged: list[str] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            while not stop.is_set() and i < 400:
                try:
                    status, _, _ = server.request(
                        "PUT",
                        f"/subscriptions/{sub}/resourcegroups/rg{i}?api-version=2024-11-01",
                        {"location": "eastus"},
                    )
                except OSError:  # the server is gone: this write was never acknowledged
                    return
                if status in (200, 201):
                    acknowledged.append(f"rg{i}")
                i += 1

        server.request(
            "PUT",
            f"/subscriptions/{sub}/resourcegroups/doomed?api-version=2024-11-01",
            {"location": "eastus"},
        )
        status, _, headers = server.request(
            "DELETE", f"/subscriptions/{sub}/resourcegroups/doomed?api-version=2024-11-01"
        )
        assert status == 202
        t = threading.Thread(target=writer)
        t.start()
        while len(acknowledged) < 20 and t.is_alive():
            t.join(0.01)
        server.kill()  # SIGKILL mid-stream
        stop.set()
        t.join()
        assert acknowledged

        server.start()
        status, body, _ = server.request("GET", f"/subscriptions/{sub}/resourcegroups?api-version=2024-11-01")
        names = {g["name"] for g in body["value"]}
        assert set(acknowledged) <= names
        # the interrupted delete resumed: still running on the clock, then done after it advances
        location = headers["location"].split(server.endpoint, 1)[1]
        status, _, _ = server.request("GET", location)
        assert status == 202
        server.admin("POST", "/clock", {"advance": 60})
        status, _, _ = server.request("GET", location)
        assert status == 200
        status, _, _ = server.request(
            "GET", f"/subscriptions/{sub}/resourcegroups/doomed?api-version=2024-11-01"
        )
        assert status == 404
