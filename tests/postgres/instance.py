"""
A private PostgreSQL instance for tests that stop and start the server: initdb into a
temporary folder, pg_ctl on a free port. The machine's shared server is never touched.

initdb refuses to run as root (as CI does): then every command runs as the ``postgres``
user (``runuser -u postgres --``), in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.server.process import free_port


def find_bin() -> Path | None:
    """
    The folder holding initdb and pg_ctl, or ``None``.
    """
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Instance:
    """
    A PostgreSQL server of our own: ``start()``, ``stop()``, ``start()`` again, ``remove()``.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="storemon-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._prefix, *args],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=60,
            cwd=self.folder,
        )

    def init(self) -> None:
        """
        Create the cluster: trust authentication, superuser postgres, no fsync.
        """
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        """
        Start the server on its port (sockets in its own folder) and wait until it answers.
        """
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """
        Stop the server at once (``-m fast``: open connections are cut).
        """
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """
        Stop the server if it runs, and delete its folder.
        """
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
