"""A real cluster on loopback for the tests and the benchmark: pageturn nodes behind HAProxy run with the
configuration in deploy/haproxy.cfg (its `server` lines written for the nodes at hand, each keeping the options
of the file's first one)."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

from conftest import ROOT, ServerProcess, free_port

DEPLOY = ROOT / "deploy"
_SERVER_LINE = re.compile(r"^(\s*)server\s+(\S+)\s+(\S+)(.*)$")


def haproxy_config(nodes: list[str], source: Path = DEPLOY / "haproxy.cfg") -> str:
    """deploy/haproxy.cfg with one `server` line per node address (host:port), in the file's own form."""
    lines = source.read_text().splitlines()
    servers = [i for i, line in enumerate(lines) if _SERVER_LINE.match(line)]
    assert servers, "deploy/haproxy.cfg has no server line"
    indent, _, _, options = _SERVER_LINE.match(lines[servers[0]]).groups()
    new = [f"{indent}server node{i + 1} {address}{options}" for i, address in enumerate(nodes)]
    kept = [line for i, line in enumerate(lines) if i not in servers]
    at = servers[0]
    return "\n".join(kept[:at] + new + kept[at:]) + "\n"


class HAProxy:
    def __init__(self, workdir: Path, nodes: list[str], port: int | None = None):
        self.workdir = workdir
        self.nodes = nodes
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "haproxy.cfg"
        self.log_path = workdir / "haproxy.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "HAProxy":
        if shutil.which("haproxy") is None:
            raise RuntimeError("Debian's haproxy is not installed: run scripts/setup.sh --test")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(haproxy_config(self.nodes))
        env = {**os.environ, "PAGETURN_LB_BIND": f"127.0.0.1:{self.port}"}
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config)], env=env, capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)], env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not listen: " + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_nodes(data_dir: Path, count: int, env: dict[str, str]) -> list[ServerProcess]:
    """`count` nodes on one data directory, started one after the other (each waits for its own health)."""
    nodes = []
    try:
        for _ in range(count):
            nodes.append(ServerProcess(data_dir, env).start())
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes


def wait_until(condition, timeout: float, message: str, interval: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def ready(url: str) -> bool:
    try:
        return requests.get(url + "/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
