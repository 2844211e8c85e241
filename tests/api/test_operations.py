"""Operations endpoints on a real server: probes, metrics (and their protection), JSON logs with request ids, the
OpenAPI document and the deploy/ files (systemd units run as written)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from api.cluster import DEPLOY, wait_until
from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes
from conftest import ROOT, ServerProcess, free_port

TOKEN = "s3cret-metrics-token"


def scrape(url: str, token: str | None = TOKEN) -> dict[tuple[str, tuple], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.get(url + "/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("ops"), {
        "PAGETURN_OFFICE_WORKERS": "1", "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_METRICS_TOKEN": TOKEN,
        "PAGETURN_LOG_FORMAT": "json", "PAGETURN_ACCESS_LOG": "true"}).start()
    yield server
    server.stop()


def test_probes(ops_server):
    r = requests.get(ops_server.url + "/livez")
    assert r.status_code == 200 and r.text == "ok"
    r = requests.get(ops_server.url + "/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"storage": True, "metadata": True, "render_pool": True,
                                                       "blob_store": True, "office_pool": True}}


def test_readyz_fails_when_storage_is_gone_and_livez_does_not(make_server):
    server = make_server(office_enabled="false", render_workers=1)
    assert requests.get(server.url + "/metrics").status_code == 404  # neither a token nor its own port: not served
    server.data_dir.rename(server.data_dir.with_name(server.data_dir.name + "-moved"))
    r = requests.get(server.url + "/readyz")
    assert r.status_code == 503 and r.json()["checks"]["storage"] is False, r.text
    assert requests.get(server.url + "/livez").status_code == 200


def test_metrics_need_the_token_and_move_with_requests(ops_server):
    assert requests.get(ops_server.url + "/metrics").status_code == 401
    assert requests.get(ops_server.url + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    before = scrape(ops_server.url)
    prizm = Prizm(ops_server.url)
    sid = prizm.session_with(pdf_bytes("metrics", pages=2), "pdf")
    page = "/PCCIS/V1/Page/q/{page}"
    for n in (0, 1, 1):
        r = prizm.get(f"/PCCIS/V1/Page/q/{n}", params={"DocumentID": "u" + sid, "ContentType": "png"})
        assert r.status_code == 200
    after = scrape(ops_server.url)
    assert value(after, "pageturn_http_requests_total", route=page, method="GET", status="200") == \
        value(before, "pageturn_http_requests_total", route=page, method="GET", status="200") + 3
    assert value(after, "pageturn_page_request_duration_seconds_count", page="first") == \
        value(before, "pageturn_page_request_duration_seconds_count", page="first") + 1
    assert value(after, "pageturn_page_request_duration_seconds_count", page="other") == \
        value(before, "pageturn_page_request_duration_seconds_count", page="other") + 2
    # page 1 rendered once, then found in the cache
    assert value(after, "pageturn_page_cache_lookups_total", result="miss") >= \
        value(before, "pageturn_page_cache_lookups_total", result="miss") + 2
    assert value(after, "pageturn_page_cache_lookups_total", result="hit") >= \
        value(before, "pageturn_page_cache_lookups_total", result="hit") + 1
    assert value(after, "pageturn_render_duration_seconds_count", job="render_raster") > \
        value(before, "pageturn_render_duration_seconds_count", job="render_raster")
    assert value(after, "pageturn_live_sessions") == value(before, "pageturn_live_sessions") + 1
    assert value(after, "pageturn_render_worker_events_total", event="started") >= 1
    for name in ("pageturn_render_queue_depth", "pageturn_conversion_queue_depth",
                 "pageturn_office_restarts_total"):
        assert any(key[0] == name for key in after), name
    # disk use is measured at most once a minute: here only its presence
    assert ("pageturn_disk_bytes", (("area", "blobs"),)) in after
    assert ("pageturn_disk_bytes", (("area", "cache"),)) in after
    r = prizm.delete(f"{V1}/u{sid}")
    assert r.status_code in (204, 580)


@pytest.mark.parametrize("token", [None, TOKEN])
def test_metrics_on_their_own_port(make_server, token):
    port = free_port()
    server = make_server(office_enabled="false", render_workers=1, metrics_port=port,
                         **({"metrics_token": token} if token else {}))
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        assert requests.get(server.url + "/metrics", headers=headers).status_code == 404  # not on the public port
    if token:
        assert requests.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
    samples = scrape(f"http://127.0.0.1:{port}", token=token)
    assert any(name == "pageturn_render_queue_depth" for name, _ in samples)


def _log_lines(server: ServerProcess) -> list[dict]:
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_json_logs_carry_the_request_id_also_sent_back(ops_server):
    r = requests.get(ops_server.url + "/PCCIS/V1/Service/Current/Info", headers={"X-Request-Id": "lb-42.abc"})
    assert r.headers["X-Request-Id"] == "lb-42.abc"
    generated = requests.get(ops_server.url + "/livez").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    hostile = requests.get(ops_server.url + "/livez", headers={"X-Request-Id": "x" * 100}).headers["X-Request-Id"]
    assert hostile != "x" * 100
    access = wait_until(lambda: [line for line in _log_lines(ops_server) if line.get("request_id") == "lb-42.abc"],
                        10, "the access line")
    assert access[0]["logger"] == "pageturn.access" and access[0]["status"] == 200
    assert access[0]["route"] == "/PCCIS/V1/Service/Current/Info" and access[0]["level"] == "info"
    # work a request starts logs under its id too: the conversion its upload started
    prizm = Prizm(ops_server.url)
    sid = prizm.create()
    r = prizm.http.put(f"{ops_server.url}{V1}/u{sid}/SourceFile", data=docx_bytes("logged conversion"),
                       params={"FileExtension": "docx"}, headers={"X-Request-Id": "upload-7"})
    assert r.status_code == 200
    wait_until(lambda: [line for line in _log_lines(ops_server)
                        if line.get("request_id") == "upload-7" and line["message"].startswith("converted ")],
               120, "the conversion's log line")
    assert all(isinstance(line, dict) for line in _log_lines(ops_server))
    assert not [line for line in ops_server.log().splitlines() if line and not line.startswith("{")
                and "listening on" not in line], "every log line is JSON"


def test_the_openapi_document_is_served(ops_server):
    r = requests.get(ops_server.url + "/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"] == "3.1.0"
    assert "/PCCIS/V1/Page/q/{page}" in r.json()["paths"]


# ---- deploy/ ---------------------------------------------------------------------------------------------------
def _unit(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, rest = line.partition("=")
            values.setdefault(key.strip(), []).append(rest.strip())
    return values


def test_systemd_units_verify():
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    for name, as_name in (("pageturn@.service", "pageturn@node1.service"),
                          ("pageturn-redis.service", "pageturn-redis.service")):
        text = (DEPLOY / name).read_text().replace("/opt/pageturn/.venv/bin/pageturn", str(ROOT / ".venv/bin/pageturn"))
        with_name = Path("/tmp") / f"pageturn-verify-{os.getpid()}" / as_name
        with_name.parent.mkdir(exist_ok=True)
        with_name.write_text(text)
        r = subprocess.run(["systemd-analyze", "verify", str(with_name)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_the_redis_unit_keeps_sessions_across_a_redis_restart(tmp_path):
    """The unit's own command line (append-only file): a node keeps its sessions when Redis restarts, answers
    not ready while Redis is down, and is ready again after."""
    unit = _unit(DEPLOY / "pageturn-redis.service")
    env = dict(part.split("=", 1) for part in " ".join(unit["Environment"]).split())
    port = free_port()
    env.update(PAGETURN_REDIS_PORT=str(port), PAGETURN_REDIS_DIR=str(tmp_path / "redis"))
    (tmp_path / "redis").mkdir()
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], unit["ExecStart"][0])
    argv = [arg if arg != '""' else "" for arg in command.split()]

    def start_redis() -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: _pings(port), 20, "redis")
        return proc

    proc = start_redis()
    node = ServerProcess(tmp_path / "data", {"PAGETURN_METADATA": f"redis://127.0.0.1:{port}/0",
                                             "PAGETURN_OFFICE_ENABLED": "false",
                                             "PAGETURN_RENDER_WORKERS": "1"}).start()
    try:
        prizm = Prizm(node.url)
        sid = prizm.session_with(pdf_bytes("kept"), "pdf")
        proc.terminate()
        proc.wait(20)
        wait_until(lambda: requests.get(node.url + "/readyz").status_code == 503, 20, "not ready without Redis")
        assert requests.get(node.url + "/livez").status_code == 200
        proc = start_redis()
        wait_until(lambda: requests.get(node.url + "/readyz").status_code == 200, 30, "ready again")
        assert prizm.get(f"{V1}/u{sid}").status_code == 200
        assert prizm.get(f"{V1}/u{sid}/SourceFile").status_code == 200
    finally:
        node.stop()
        proc.terminate()
        proc.wait(20)


def _pings(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def test_the_node_unit_starts_a_node(tmp_path):
    """The node unit's ExecStart, with an environment file like the one its comment shows."""
    unit = _unit(DEPLOY / "pageturn@.service")
    command = unit["ExecStart"][0].replace("/opt/pageturn/.venv/bin/pageturn", str(ROOT / ".venv/bin/pageturn"))
    port = free_port()
    env = {**os.environ, "PAGETURN_HOST": "127.0.0.1", "PAGETURN_PORT": str(port),
           "PAGETURN_DATA_DIR": str(tmp_path / "data"), "PAGETURN_OFFICE_ENABLED": "false",
           "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_LOG_FORMAT": "json"}
    proc = subprocess.Popen(command.split(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _ready(f"http://127.0.0.1:{port}"), 60, "the node's readiness")
    finally:
        proc.terminate()
        assert proc.wait(45) == 0  # SIGTERM (the unit's KillSignal) stops it cleanly


def _ready(url: str) -> bool:
    try:
        return requests.get(url + "/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False



def test_the_haproxy_drop_in_gives_the_configuration_what_it_needs():
    """deploy/haproxy.cfg as Debian's haproxy.service reads it, with the drop-in's environment."""
    env = {**os.environ}
    for line in _unit(DEPLOY / "haproxy-pageturn.conf")["Environment"]:
        env.update(part.split("=", 1) for part in line.split())
    env["PAGETURN_LB_BIND"] = f"127.0.0.1:{free_port()}"  # :80 needs no privilege to check, but keep it local
    r = subprocess.run(["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
