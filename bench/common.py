"""What the benchmarks share: running the `pilotgate` CLI and server as subprocesses, and a
throwaway PostgreSQL schema. Imported as `common` (the scripts run from this folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable


def pilotgate(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pilotgate", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"pilotgate {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def bench_account(
    env: dict[str, str], balance: int, *, name: str = "bench", sender: str = "INFORM"
) -> tuple[str, str]:
    """A throwaway account of this run: (its id, its API key), as `account create` prints
    them. `sender` is its default sender ("" for none)."""
    words = pilotgate(
        env, "account", "create", "--email", f"{name}{os.getpid()}@example.com",
        "--password", "bench-password", "--balance", str(balance),
        *(("--default-sender", sender) if sender else ()),
    ).split()  # fmt: skip
    return words[1], words[-1]


def start_server(
    env: dict[str, str], workers: int, command: str = "serve"
) -> tuple[subprocess.Popen[str], str]:
    """`pilotgate serve` (or `api`: no pipeline) on a free port: the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotgate", command, "--port", "0", "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("PilotGate listening on "):
            return proc, line.split()[-1]
    raise SystemExit("the server did not start")


def stop_server(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM: works whatever the SIGINT disposition
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("the server did not stop within 30 s; killed", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=10)


def throwaway_schema(database: str | None) -> tuple[str | None, Callable[[], None]]:
    """For PostgreSQL, a schema of this run's own (dropped at the end), so benchmarks never
    leave tables behind in the database they were pointed at."""
    if not database or not database.startswith("postgres"):
        return database, lambda: None
    import psycopg

    schema = f"bench_{os.getpid()}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

    joiner = "&" if "?" in database else "?"
    return f"{database}{joiner}options=-csearch_path%3D{schema}", drop
