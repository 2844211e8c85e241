"""Service health and information."""
from __future__ import annotations

import shutil


def test_health_and_info(server):
    import requests
    r = requests.get(server.url + "/PCCIS/V1/Service/Current/Health")
    assert r.status_code == 200 and r.text == "OK"
    info = requests.get(server.url + "/PCCIS/V1/Service/Current/Info").json()
    assert info["serviceStatus"] == "running"
    assert info["version"] and info["instanceId"] and info["startTime"].endswith("Z")
    assert info["components"]["render_workers"] is True and info["components"]["office"] is True


def test_health_fails_when_the_data_directory_is_gone(make_server):
    import requests
    server = make_server()
    shutil.rmtree(server.data_dir)
    r = requests.get(server.url + "/PCCIS/V1/Service/Current/Health")
    assert r.status_code == 500
    assert requests.get(server.url + "/PCCIS/V1/Service/Current/Info").json()["serviceStatus"] == "unhealthy"
