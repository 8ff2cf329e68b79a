"""
Run ``storemon serve`` as a real process for the end-to-end tests, and talk to it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    """
    Return a TCP port that was free a moment ago on 127.0.0.1.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: Runs ``storemon serve`` with every report computation delayed (``report_delay``).
SLOW_SERVE = Path(__file__).with_name("slow_serve.py")


class Server:
    """
    A ``storemon serve`` child process on a free port, its log in a file; with
    ``report_delay``, each report computation first sleeps that many seconds (with
    ``shard_delay``, each shard's computation).
    """

    def __init__(
        self,
        workdir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
        report_delay: float | None = None,
        shard_delay: float | None = None,
    ) -> None:
        # A given port starts a server where an earlier one was (a restart).
        self.port = free_port() if port is None else port
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("STOREMON_")}
        environ.update(env or {})
        command = [sys.executable, "-m", "storemon", "serve"]
        if report_delay is not None:
            command = [sys.executable, str(SLOW_SERVE), str(report_delay)]
        if shard_delay is not None:
            command = [sys.executable, str(SLOW_SERVE), "--shards", str(shard_delay)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environ,
                cwd=workdir,
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        """
        Send one request; return the status, headers and body (errors included).
        """
        request = urllib.request.Request(self.base + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str) -> tuple[int, Any]:
        status, _, body = self.request(method, path)
        return status, json.loads(body)

    def wait_ready(self, seconds: float = 30.0) -> dict[str, Any]:
        """
        Wait until health says ready; return the health body.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{self.log()}")
            try:
                status, body = self.json("GET", "/api/health")
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                time.sleep(0.1)
                continue
            if status == 200 and body["ready"]:
                return dict(body)
            time.sleep(0.1)
        raise AssertionError(f"the server did not get ready:\n{self.log()}")

    def trigger(self) -> str:
        status, body = self.json("POST", "/api/trigger_report")
        assert status == 200, body
        report_id: str = body["report_id"]
        return report_id

    def wait_report(self, report_id: str, seconds: float = 30.0) -> tuple[str, Any]:
        """
        Poll until the report is complete; return its CSV and its JSON form.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, headers, body = self.request("GET", f"/api/get_report?report_id={report_id}")
            assert status == 200, body
            if headers.get("X-Report-Status") == "Complete":
                _, as_json = self.json("GET", f"/api/get_report?report_id={report_id}&format=json")
                return body.decode("utf-8"), as_json
            time.sleep(0.1)
        raise AssertionError(f"report {report_id} did not complete:\n{self.log()}")

    def kill(self) -> None:
        """
        ``kill -9`` the server.
        """
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> int:
        """
        Ask the server to stop (SIGTERM) and return its exit status.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode
