"""Service health and information."""
from __future__ import annotations



def test_health_and_info(server):
    import requests
    r = requests.get(server.url + "/PCCIS/V1/Service/Current/Health")
    assert r.status_code == 200 and r.text == "OK"
    info = requests.get(server.url + "/PCCIS/V1/Service/Current/Info").json()
    assert info["serviceStatus"] == "running"
    assert info["version"] and info["instanceId"] and info["startTime"].endswith("Z")
    assert info["components"]["render_workers"] is True and info["components"]["office"] is True


def test_health_fails_when_the_data_directory_is_gone(make_server):
    """The directory is moved away in one step: removing it file by file raced LibreOffice writing its profile
    into it while warming up (`Directory not empty: 'slot-0'`). LibreOffice is not needed here at all."""
    import requests
    server = make_server(office_enabled="false", render_workers=1)
    assert requests.get(server.url + "/PCCIS/V1/Service/Current/Health").status_code == 200
    server.data_dir.rename(server.data_dir.with_name(server.data_dir.name + "-moved"))
    r = requests.get(server.url + "/PCCIS/V1/Service/Current/Health")
    assert r.status_code == 500 and "data_dir" in r.text, r.text
    assert requests.get(server.url + "/PCCIS/V1/Service/Current/Info").json()["serviceStatus"] == "unhealthy"
