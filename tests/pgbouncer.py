"""PgBouncer for the tests: a private one in transaction pooling mode, in front of a
`fresh_schema()` database (tests/postgres.py).

Each `pgbouncer()` starts its own `pgbouncer` process on a free loopback port, with its own
ini and auth file in the test's directory, and stops it with SIGTERM (then SIGKILL). The
fresh schema reaches the server connections through PgBouncer's `connect_query`: PgBouncer
1.18 refuses the `options` startup parameter the direct URL carries it in. When PgBouncer is
not installed the test is skipped with the reason, unless PILOTGATE_REQUIRE_POSTGRES=1 (CI,
where scripts/install --dev installs it): then it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.acceptance.support import stop_process


def _program() -> str:
    # Debian installs it in /usr/sbin, which an ordinary user's PATH may lack.
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        reason = "pgbouncer is not installed (Debian: apt-get install pgbouncer)"
        if os.environ.get("PILOTGATE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Bouncer:
    """A running PgBouncer: `url` reaches the schema through it; `log` is what it printed."""

    url: str
    port: int
    log: Path
    pool_size: int

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _ini(direct: str, workdir: Path, port: int, pool_size: int) -> Path:
    params = conninfo_to_dict(direct)
    options = str(params.get("options", ""))
    schema = options.removeprefix("-csearch_path=") if options.startswith("-c") else ""
    target = " ".join(
        f"{key}={params[key]}" for key in ("host", "port", "dbname", "user") if key in params
    )
    if schema:  # a hex name (tests/postgres.py): nothing to quote inside it
        target += f" connect_query='SET search_path = {schema}'"
    users = workdir / "pgbouncer-users.txt"
    users.write_text(f'"{params.get("user", "postgres")}" ""\n', encoding="utf-8")
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"gate = {target}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {users}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\n"
        "max_client_conn = 1000\n",
        encoding="utf-8",
    )
    return ini


@contextlib.contextmanager
def pgbouncer(direct: str, workdir: Path, *, pool_size: int = 10) -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling mode in front of `direct` (a fresh_schema URL), at
    most `pool_size` server connections, so that many clients share few server sessions."""
    program = _program()
    port = free_port()
    ini = _ini(direct, workdir, port, pool_size)
    log = workdir / "pgbouncer.log"
    user = conninfo_to_dict(direct).get("user", "postgres")
    # PgBouncer will not run as root: it reads its files, then becomes `nobody`.
    as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
    with log.open("w", encoding="utf-8") as errors:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [program, *as_user, str(ini)], stdout=errors, stderr=subprocess.STDOUT
        )
    try:
        listening = f"listening on 127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while listening not in log.read_text(encoding="utf-8", errors="replace"):
            assert process.poll() is None, f"pgbouncer exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"pgbouncer did not listen:\n{log.read_text()}"
            time.sleep(0.05)  # a poll interval, not a synchronisation
        yield Bouncer(f"postgresql://{user}@127.0.0.1:{port}/gate", port, log, pool_size)
    finally:
        stop_process(process, 10, log.read_text)
