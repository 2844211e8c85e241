"""Three pageturn nodes behind a real HAProxy (deploy/haproxy.cfg) on one real Redis and one data directory.

20 viewers read pages of 10 sessions through HAProxy while the node converting a Word document is killed with
SIGKILL and later restarted: no page request fails, no session or work file is lost, the conversion is finished
by another node, and uploads in flight to the dead node fail cleanly and leave nothing half-stored."""
from __future__ import annotations

import hashlib
import random
import signal
import threading
from pathlib import Path

import pytest
import redis
import requests

from api.cluster import HAProxy, ready, start_nodes, wait_until
from api.prizm import V1, Prizm
from docgen import make_pdf_pages
from officegen import docx_pages

SESSIONS = 10
VIEWERS = 20
PAGES = 4
NODE = "X-Pageturn-Node"


def node_of(lb: Prizm, sid: str) -> str:
    r = lb.get(f"{V1}/u{sid}")
    assert r.status_code == 200, r.text
    return r.headers[NODE]


class Viewers:
    """Threads reading random pages (PNG or SVG) of the sessions until told to stop; every failure is kept."""

    def __init__(self, base: str, sessions: list[str]):
        self.base = base
        self.sessions = sessions
        self.stop = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._read, args=(n,), daemon=True) for n in range(VIEWERS)]

    def start(self) -> "Viewers":
        for thread in self.threads:
            thread.start()
        return self

    def _read(self, seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        while not self.stop.is_set():
            sid = rng.choice(self.sessions)
            params = {"DocumentID": "u" + sid, "ContentType": rng.choice(["png", "svgb"])}
            try:
                r = http.get(f"{self.base}/PCCIS/V1/Page/q/{rng.randrange(PAGES)}", params=params, timeout=120)
                good = r.status_code == 200 and len(r.content) > 100
                problem = None if good else f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {exc}"
            with self.lock:
                if problem is None:
                    self.ok += 1
                else:
                    self.failures.append(problem)

    def count(self) -> int:
        with self.lock:
            return self.ok

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(150)


class SlowUpload(threading.Thread):
    """A chunked upload that sends its first part, then the rest only after `release` is set."""

    def __init__(self, base: str, sid: str, release: threading.Event):
        super().__init__(daemon=True)
        self.sid = sid
        self.url = f"{base}{V1}/u{sid}/SourceFile"
        self.release = release
        self.outcome: str | None = None

    def _body(self):
        yield b"%PDF-1.4\n" + b"0" * (256 << 10)
        self.release.wait(120)
        for _ in range(16):
            yield b"1" * (256 << 10)

    def run(self) -> None:
        try:
            r = requests.put(self.url, data=self._body(), params={"FileExtension": "pdf"}, timeout=120)
            self.outcome = str(r.status_code)
        except requests.RequestException as exc:
            self.outcome = type(exc).__name__


def blobs_are_whole(data_dir: Path) -> list[str]:
    """Stored documents whose bytes do not hash to their name (a half-written one would not)."""
    bad = []
    for path in (data_dir / "blobs").rglob("*"):
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
            bad.append(str(path))
    return bad


@pytest.mark.timeout(600)
def test_a_node_killed_under_load_behind_haproxy(tmp_path, redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/3"
    store = redis.Redis.from_url(url)
    store.flushdb()
    data_dir = tmp_path / "shared-data"
    env = {"PAGETURN_METADATA": url, "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_OFFICE_WORKERS": "1"}
    nodes = start_nodes(data_dir, 3, env)
    by_name = {f"node{i + 1}": node for i, node in enumerate(nodes)}
    lb_proc = HAProxy(tmp_path / "haproxy", [f"127.0.0.1:{n.port}" for n in nodes]).start()
    viewers = None
    try:
        lb = Prizm(lb_proc.url)
        documents = {}
        for i in range(SESSIONS):
            data = make_pdf_pages(PAGES, image=False) + f"\n% session {i}\n".encode()
            documents[lb.session_with(data, "pdf")] = data
        sids = list(documents)
        homes = {sid: node_of(lb, sid) for sid in sids}
        assert len(set(homes.values())) >= 2, homes  # sessions spread over the nodes, each keeps its home
        assert all(node_of(lb, sid) == homes[sid] for sid in sids)
        file_ids = {sid: lb.get(f"{V1}/u{sid}/FileId").json()["fileId"] for sid in sids}
        # without a session in the URL, the affinity token picks the node; without either, any node answers
        one_file = f"/PCCIS/V1/WorkFile/{file_ids[sids[0]]}"
        assert len({lb.get(one_file, headers={"Accusoft-Affinity-Token": "tok-1"}).headers[NODE]
                    for _ in range(6)}) == 1
        assert len({lb.get(one_file).headers[NODE] for _ in range(6)}) >= 2

        viewers = Viewers(lb_proc.url, sids).start()
        wait_until(lambda: viewers.count() >= 100, 180, "viewers warming up")

        # the Word document's session decides which node dies: the one it lives on converts it
        docx = tmp_path / "long.docx"
        docx_pages(docx, 60)
        doc_sid = lb.create()
        victim_name = node_of(lb, doc_sid)
        victim = by_name[victim_name]

        # uploads in flight to the victim when it dies
        release = threading.Event()
        uploads = []
        while len(uploads) < 2:
            sid = lb.create()
            if node_of(lb, sid) == victim_name:
                upload = SlowUpload(lb_proc.url, sid, release)
                upload.start()
                uploads.append(upload)
        wait_until(lambda: len([p for p in (data_dir / "tmp").iterdir()
                                if p.is_file() and p.stat().st_size > 0]) >= 2, 60, "uploads under way")

        r = lb.upload(doc_sid, docx.read_bytes(), "docx")
        assert r.status_code == 200 and r.headers[NODE] == victim_name, (r.status_code, r.headers)
        lock = wait_until(lambda: store.keys("pageturn:lock:convert:*"), 60, "the conversion's lock")[0]
        assert f":{victim.proc.pid}:" in store.get(lock).decode()
        victim.stop(signal.SIGKILL)
        assert store.exists(lock), "the conversion ended before the node died: use a longer document"
        release.set()

        # the conversion is finished by another node once the dead node's lock expires
        r = lb.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + doc_sid, "ContentType": "png"}, timeout=200)
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), (r.status_code, r.text[:300])
        assert r.headers[NODE] != victim_name
        attributes = lb.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + doc_sid}).json()
        assert attributes["pageCount"] == 60

        # uploads cut by the death failed cleanly, stored nothing, and the session takes the document again
        for upload in uploads:
            upload.join(150)
            assert upload.outcome is not None and upload.outcome != "200", upload.outcome
            assert lb.get(f"{V1}/u{upload.sid}").status_code == 200
            assert lb.get(f"{V1}/u{upload.sid}/SourceFile").status_code != 200
            again = lb.upload(upload.sid, make_pdf_pages(1, image=False), "pdf")
            assert again.status_code == 200, again.text

        # back up: the load balancer sends its sessions home again once it is ready
        before = viewers.count()
        victim.start()
        wait_until(lambda: ready(victim.url), 60, "the restarted node's readiness")
        home_sid = next((sid for sid in sids if homes[sid] == victim_name), None)
        if home_sid is not None:
            wait_until(lambda: node_of(lb, home_sid) == victim_name, 30, "sessions going home")
        wait_until(lambda: viewers.count() >= before + 200, 180, "viewers reading after the restart")
        viewers.finish()

        assert viewers.failures == [], viewers.failures[:10]
        for sid, data in documents.items():
            assert lb.get(f"{V1}/u{sid}/SourceFile").content == data
            assert lb.get(f"/PCCIS/V1/WorkFile/{file_ids[sid]}").content == data
        assert blobs_are_whole(data_dir) == []
    finally:
        if viewers is not None:
            viewers.finish()
        lb_proc.stop()
        for node in nodes:
            node.stop()
