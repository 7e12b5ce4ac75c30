"""Authenticated ARM GET throughput vs. a bare Starlette route, both on uvicorn over HTTPS, loaded by wrk.

Prints requests/s and p50/p99 for both, their ratio (target >= 0.6), and azemu's cold start time.
Run: scripts/bench   (or .venv/bin/python -m bench.arm_get --duration 10)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from azemu.testing.server import AzemuServer, free_port


def wrk(url: str, duration: int, token: str | None, threads: int, conns: int) -> dict[str, float]:
    script = None
    args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
    if token:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if script:
        script.unlink()

    def lat(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return {"rps": rps, "p50_ms": lat("50"), "p99_ms": lat("99")}


def wait_http(url: str, cafile: str, timeout: float = 20) -> None:
    import ssl

    ctx = ssl.create_default_context(cafile=cafile)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, context=ctx, timeout=2).read()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required (apt-get install wrk)")

    # cold start: a fresh data dir (creates CA, keys) and an existing one
    fresh = AzemuServer(in_memory=True, extra_args=("--no-access-log",))
    t0 = time.monotonic()
    fresh.start()
    cold_fresh_proc = time.monotonic() - t0
    fresh.stop()
    t0 = time.monotonic()
    fresh.start()
    cold_existing = time.monotonic() - t0

    server = fresh
    try:
        sub = server.subscription_id
        server.request(
            "PUT",
            f"/subscriptions/{sub}/resourcegroups/benchRG?api-version=2024-11-01",
            {"location": "eastus"},
        )
        token = server.token()
        url = f"{server.endpoint}/subscriptions/{sub}/resourcegroups/benchRG?api-version=2024-11-01"

        port = free_port()
        hello = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.hello",
                "--port",
                str(port),
                "--cert",
                str(server.data.tls.server_cert),
                "--key",
                str(server.data.tls.server_key),
            ]
        )
        try:
            wait_http(f"https://localhost:{port}/hello", str(server.data.tls.ca_cert))
            # warm both, then measure side by side, alternating, twice
            wrk(url, 2, token, a.threads, a.connections)
            wrk(f"https://localhost:{port}/hello", 2, None, a.threads, a.connections)
            runs_azemu, runs_bare = [], []
            for _ in range(2):
                runs_azemu.append(wrk(url, a.duration, token, a.threads, a.connections))
                runs_bare.append(
                    wrk(f"https://localhost:{port}/hello", a.duration, None, a.threads, a.connections)
                )
        finally:
            hello.terminate()
            hello.wait()
    finally:
        server.close()

    best_a = max(runs_azemu, key=lambda r: r["rps"])
    best_b = max(runs_bare, key=lambda r: r["rps"])
    print(
        f"wrk -t{a.threads} -c{a.connections} -d{a.duration}s, keep-alive HTTPS, best of 2 alternating runs"
    )
    print(
        f"  azemu  authenticated GET resource group : {best_a['rps']:9.0f} req/s  p50 {best_a['p50_ms']:.2f} ms  p99 {best_a['p99_ms']:.2f} ms"
    )
    print(
        f"  bare   Starlette hello-world route     : {best_b['rps']:9.0f} req/s  p50 {best_b['p50_ms']:.2f} ms  p99 {best_b['p99_ms']:.2f} ms"
    )
    print(f"  ratio azemu / bare                     : {best_a['rps'] / best_b['rps']:.2f}   (target >= 0.6)")
    print(
        f"  cold start to first healthy answer     : {cold_fresh_proc:.2f} s (new data dir: CA + keys made), "
        f"{cold_existing:.2f} s (existing data dir)"
    )


if __name__ == "__main__":
    main()
