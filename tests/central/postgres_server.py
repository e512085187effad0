"""A throw-away PostgreSQL server for tests: `initdb` into a temp dir, `pg_ctl start` on a free port.

Works on a fresh machine where the `postgresql` package is installed but no cluster runs. As root the
server runs as the `postgres` user (PostgreSQL refuses to run as root). Each pytest-xdist worker starts
its own server when its first PostgreSQL test needs one, so workers never share state or lock files.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

START_WAIT_SECONDS = 30
PORT_ATTEMPTS = 5


class PostgresUnavailable(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The newest installed server's binaries (Debian keeps them off PATH)."""
    installed = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if path.parent.name.isdigit()]
    for candidate in sorted(installed, key=lambda path: int(path.parent.name), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (install the `postgresql` package)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bin_dir: Path
    base_dir: Path
    port: int
    run_as: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]
            )
        shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def _run(self, command: list[str], timeout: float = 60) -> None:
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{command[-1]!r} failed: {result.stderr.strip()[-500:]}")


def start_postgres() -> PostgresServer:
    bin_dir = find_bin_dir()
    run_as = "postgres" if os.geteuid() == 0 else None
    base_dir = Path(tempfile.mkdtemp(prefix="tresen-pg-"))
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        os.chown(base_dir, account.pw_uid, account.pw_gid)
    server = PostgresServer(bin_dir, base_dir, _free_port(), run_as)
    server._run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(server.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        ]
    )
    # The free port can be taken between probing and binding (other workers and helpers start
    # servers too): then try again at once on another port; any other failure is final.
    for attempt in range(PORT_ATTEMPTS):
        # Durability off: a test server's data dies with the test session anyway.
        options = (
            f"-p {server.port} -k {base_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        try:
            server._run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(server.data_dir),
                    "-o",
                    options,
                    "-l",
                    str(base_dir / f"server-{attempt}.log"),
                    "-w",  # pg_ctl itself waits until the server accepts connections
                    "-t",
                    str(START_WAIT_SECONDS),
                    "start",
                ]
            )
            return server
        except PostgresUnavailable as error:
            log = _read_log(base_dir / f"server-{attempt}.log")
            if attempt == PORT_ATTEMPTS - 1 or not ("could not bind" in log or "already in use" in log):
                shutil.rmtree(base_dir, ignore_errors=True)
                raise PostgresUnavailable(f"{error}; server log: {log.strip()[-500:]}") from error
            server.port = _free_port()
    raise AssertionError("unreachable")


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
