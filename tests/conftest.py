"""Real server processes for the tests: `server` (shared by a test module) and `make_server` (a fresh one with
its own settings). Each runs `pageturn serve` on a free 127.0.0.1 port with its own data directory."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60) -> "ServerProcess":
        env = {**os.environ, "PAGETURN_HOST": "127.0.0.1", "PAGETURN_PORT": str(self.port),
               "PAGETURN_DATA_DIR": str(self.data_dir), **self.extra_env}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(ROOT / ".venv/bin/pageturn"), "serve"], env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/PCCIS/V1/Service/Current/Health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become healthy: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def make_server(tmp_path_factory):
    started: list[ServerProcess] = []

    def make(**settings) -> ServerProcess:
        env = {"PAGETURN_" + k.upper(): str(v) for k, v in settings.items()}
        env.setdefault("PAGETURN_OFFICE_WORKERS", "1")
        server = ServerProcess(tmp_path_factory.mktemp("data"), env)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def office_server(tmp_path_factory, storage):
    """A server light on processes (one LibreOffice, one render worker) for modules that convert documents."""
    server = ServerProcess(tmp_path_factory.mktemp("office"), {"PAGETURN_OFFICE_WORKERS": "1",
                                                               "PAGETURN_RENDER_WORKERS": "1", **storage}).start()
    yield server
    server.stop()


# a server for tests that render nothing: no LibreOffice, one render worker
QUIET = {"office_enabled": "false", "render_workers": 1}


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("quiet"),
                           {"PAGETURN_" + k.upper(): str(v) for k, v in QUIET.items()}).start()
    yield server
    server.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "storages(*names): run the test once per blob store (dir, s3)")


def _storages_marked(module) -> bool:
    return any(mark.name == "storages" for item in vars(module).values() for mark in getattr(item, "pytestmark", ()))


def pytest_generate_tests(metafunc):
    """A module that sets STORAGES = ("dir", "s3") runs its `server` tests once per blob store; a test marked
    @pytest.mark.storages("dir", "s3") runs once per blob store on its module's `server` or `office_server`
    (the module's other tests then run on the directory store's, the same one)."""
    storages = getattr(metafunc.module, "STORAGES", None)
    mark = metafunc.definition.get_closest_marker("storages")
    if mark is not None:
        storages = mark.args
    elif storages is None and _storages_marked(metafunc.module):
        storages = ("dir",)
    if storages and "storage" in metafunc.fixturenames:
        metafunc.parametrize("storage", storages, indirect=True, scope="module")


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real S3 server (SeaweedFS) on 127.0.0.1 with a bucket "pageturn", for the whole test run."""
    from s3server import SeaweedS3
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def storage(request) -> dict[str, str]:
    """The server settings of the blob store under test: the data directory (default) or the S3 bucket, under a
    prefix of its own."""
    if getattr(request, "param", "dir") == "dir":
        return {}
    return request.getfixturevalue("s3").server_env(f"t-{os.urandom(6).hex()}")


@pytest.fixture
def forget_local_copies(request, storage):
    """For tests run on both stores: on S3, removes the server's local copies of stored documents (as its cache
    eviction would, or as another node never had them), so what comes next reads them through the bucket.
    Nothing on the directory store, where they are the documents themselves."""
    def forget() -> None:
        if not storage:
            return
        for name in ("server", "office_server"):
            if name in request.fixturenames:
                for path in (request.getfixturevalue(name).data_dir / "blobs").glob("*/*"):
                    path.unlink(missing_ok=True)
    return forget


@pytest.fixture(scope="module")
def server(tmp_path_factory, storage):
    server = ServerProcess(tmp_path_factory.mktemp("data"), {"PAGETURN_OFFICE_WORKERS": "1", **storage}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on 127.0.0.1, without persistence, for the tests whose subject is Redis."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    import redis
    client = redis.Redis(port=port)
    deadline = time.time() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


_cluster_dbs = iter(range(8, 16))  # Redis databases of their own for two-node tests (2-4 belong to the S3 tests)


@pytest.fixture
def two_nodes(tmp_path, redis_url):
    """Two server processes sharing one data directory and one Redis database (no LibreOffice, one render
    worker each): the cluster mode of the directory store. Stopped at the end, whatever the test did to them."""
    env = {"PAGETURN_METADATA": redis_url.replace("/0", f"/{next(_cluster_dbs)}"),
           "PAGETURN_OFFICE_ENABLED": "false", "PAGETURN_RENDER_WORKERS": "1"}
    data_dir = tmp_path / "shared-data"
    a = ServerProcess(data_dir, env).start()
    try:
        b = ServerProcess(data_dir, env).start()
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
