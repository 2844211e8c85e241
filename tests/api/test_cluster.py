"""Two nodes sharing Redis metadata and one data directory: a session made on one is served by the other,
and survives the death of the node that made it."""
from __future__ import annotations

import signal

from api.prizm import V1, Prizm
from api.samples import known_pdf


def test_two_nodes_share_sessions_and_survive_a_node_dying(two_nodes):
    a, b = two_nodes
    node_a, node_b = Prizm(a.url), Prizm(b.url)
    data = known_pdf() + b"\n% cluster"
    sid = node_a.session_with(data, body={"tenantId": "shared"})
    assert node_b.get(f"{V1}/u{sid}").json()["tenantId"] == "shared"
    assert node_b.get(f"{V1}/u{sid}/SourceFile").content == data
    r = node_b.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "png"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    file_id = node_a.post("/PCCIS/V1/WorkFile", data=b"notes", params={"FileExtension": "txt"}).json()["fileId"]
    a.stop(signal.SIGKILL)  # the node that made them dies without cleaning up
    assert node_b.get(f"/PCCIS/V1/WorkFile/{file_id}").content == b"notes"
    text = node_b.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}).json()
    assert "Hello pageturn" in text["pages"][0]["text"]
    node_b.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": "Done"})
    a.start()  # back up: it sees the stop made on the other node
    assert node_a.status_line(f"{V1}/u{sid}")[0] == "HTTP/1.1 418 Done"
