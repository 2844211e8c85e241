"""The SSRF-safe URL fetcher. Address rules are tested by calling the checks directly; fetching is tested only
against loopback servers in this process (allow-listed ones that serve, and plain listeners that must never
see a connection). No test opens a connection to a non-loopback address."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from loopback import LoopbackServer, QuietHandler
from pageturn.core.url_fetch import (AllowList, CheckedResolver, FetchError, check_address, forbidden_category,
                                     open_url, parse_url)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# ---- loopback helpers (also used by tests/api/test_zoho_http.py) ----------------------------------------------
class Listener:
    """A TCP listener on 127.0.0.1 that only counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


class DocumentServer(LoopbackServer):
    """A loopback HTTP server with fixed routes:
    /doc.pdf, /notes.txt (text/plain), /hop/N (N redirects, then the PDF at /hop/0), /to?port=P (redirect to that port),
    /big?size=N[&chunked=1], /slow?seconds=S, /status/N, /blob (unrecognisable bytes)."""

    def __init__(self, pdf: bytes = PDF):
        server = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                server.requests.append(self.path)
                path, _, query = self.path.partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                if path == "/doc.pdf":
                    return self.send_body(server.pdf, "application/pdf")
                if path == "/notes.txt":
                    return self.send_body(b"plain notes\nsecond line\n", "text/plain; charset=utf-8")
                if path == "/blob":
                    return self.send_body(b"\x00\x01 not a document format", "application/octet-stream")
                if path.startswith("/hop/"):
                    left = int(path.rsplit("/", 1)[1])
                    if left > 0:
                        return self._redirect(f"/hop/{left - 1}")
                    return self.send_body(server.pdf, "application/pdf")
                if path == "/to":
                    return self._redirect(f"http://127.0.0.1:{params['port']}/doc.pdf")
                if path == "/big":
                    size = int(params["size"])
                    if params.get("chunked"):
                        self.send_response(200)
                        self.send_header("Content-Type", "application/pdf")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        block = b"%PDF-1.4 " + b"x" * 8183
                        for _ in range(size // len(block) + 1):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                        self.wfile.write(b"0\r\n\r\n")
                        return None
                    return self.send_body(b"%PDF-1.4 " + b"x" * size, "application/pdf")
                if path == "/slow":
                    time.sleep(float(params.get("seconds", "5")))
                    return self.send_body(server.pdf, "application/pdf")
                if path.startswith("/status/"):
                    self.send_response(int(path.rsplit("/", 1)[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.pdf = pdf
        self.requests: list[str] = []
        super().__init__(Handler)


@pytest.fixture
def docs():
    server = DocumentServer()
    yield server
    server.close()


@pytest.fixture
def listener():
    quiet = Listener()
    yield quiet
    quiet.close()


def fetch(url: str, allow, *, timeout: float = 10, max_size: int = 1 << 20) -> tuple[bytes, str | None]:
    async def run():
        async with open_url(url, allow=allow, timeout=timeout, max_size=max_size) as fetched:
            return b"".join([chunk async for chunk in fetched.chunks()]), fetched.extension_hint
    return asyncio.run(run())


def refused(url: str, allow, **kw) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, allow, **kw)
    return caught.value


# ---- the address policy ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("address, category", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"), ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"), ("100.64.0.1", "private"), ("198.18.0.1", "private"),
    ("169.254.10.20", "link-local"), ("fe80::1", "link-local"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"), ("100.100.100.200", "metadata"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:127.0.0.1", "loopback"),            # IPv4-mapped
    ("64:ff9b::a9fe:a9fe", "metadata"), ("2002:c0a8:101::1", "private"),         # NAT64, 6to4
])
def test_non_public_addresses_are_refused(address, category):
    assert forbidden_category(address) == category
    with pytest.raises(FetchError) as caught:
        check_address(address)
    assert caught.value.reason == "forbidden_address"
    assert category in caught.value.message


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "1.1.1.1"])
def test_public_addresses_pass(address):
    assert forbidden_category(address) is None
    assert check_address(address) is None


def test_allow_list_entries():
    allow = AllowList.parse(["127.0.0.1:8080", "10.0.0.0/8", "[::1]:9000", "Minio:9000", " "])
    check_address("127.0.0.1", allow, port=8080)
    with pytest.raises(FetchError):
        check_address("127.0.0.1", allow, port=8081)  # another port of an allowed host
    with pytest.raises(FetchError):
        check_address("127.0.0.2", allow, port=8080)
    check_address("10.200.3.4", allow, port=1)
    check_address("::1", allow, port=9000)
    check_address("172.18.0.5", allow, port=9000, host="minio")  # by name, whatever it resolves to
    with pytest.raises(FetchError):
        check_address("172.18.0.5", allow, port=9000, host="other")
    with pytest.raises(FetchError):
        check_address("169.254.169.254", allow, port=80)
    assert check_address("127.0.0.1", ["127.0.0.0/8"]) is None  # a plain list is parsed too


@pytest.mark.parametrize("entry", ["localhost", "127.0.0.1:", "host:99999", "[::1]9000"])
def test_malformed_allow_entries_are_configuration_errors(entry):
    with pytest.raises(ValueError):
        AllowList.parse([entry])


class StubResolver:
    """Answers like DNS would, without any network."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        return [{"hostname": host, "host": ip, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
                for ip in self.answers[host]]

    async def close(self):
        pass


def test_resolved_addresses_are_checked_after_dns():
    stub = StubResolver({"intranet.example": ["10.0.0.7"], "rebind.example": ["93.184.216.34", "127.0.0.1"],
                         "public.example": ["93.184.216.34"], "metadata.example": ["169.254.169.254"]})
    resolver = CheckedResolver(AllowList.parse([]), inner=stub)
    for host in ("intranet.example", "rebind.example", "metadata.example"):
        with pytest.raises(FetchError) as caught:
            asyncio.run(resolver.resolve(host, 80))
        assert caught.value.reason == "forbidden_address"
        assert host in caught.value.message
    assert [r["host"] for r in asyncio.run(resolver.resolve("public.example", 443))] == ["93.184.216.34"]
    allowed = CheckedResolver(AllowList.parse(["intranet.example:80"]), inner=stub)
    assert [r["host"] for r in asyncio.run(allowed.resolve("intranet.example", 80))] == ["10.0.0.7"]
    with pytest.raises(FetchError):
        asyncio.run(allowed.resolve("intranet.example", 8080))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.pdf", "gopher://x/", "/relative.pdf",
                                 "", "http://"])
def test_only_absolute_http_urls(url):
    with pytest.raises(FetchError) as caught:
        parse_url(url)
    assert caught.value.reason == "bad_url"


# ---- fetching from loopback ---------------------------------------------------------------------------------------
def test_fetches_from_an_allow_listed_loopback_port(docs):
    allow = [f"127.0.0.1:{docs.port}"]
    assert fetch(docs.url + "/doc.pdf", allow) == (PDF, "pdf")
    body, hint = fetch(docs.url + "/notes.txt", allow)
    assert body.startswith(b"plain notes") and hint == "txt"  # the Content-Type names a text format


def test_loopback_not_on_the_allow_list_sees_no_connection(docs, listener):
    allow = [f"127.0.0.1:{docs.port}"]
    for url in (f"http://127.0.0.1:{listener.port}/doc.pdf",        # an address literal
                f"http://localhost:{listener.port}/doc.pdf",        # a name that resolves to loopback
                f"http://[::ffff:127.0.0.1]:{listener.port}/doc.pdf",
                f"http://0.0.0.0:{listener.port}/doc.pdf"):
        error = refused(url, allow)
        assert error.reason in ("forbidden_address", "bad_url"), (url, error.message)
    error = refused(docs.url + f"/to?port={listener.port}", allow)   # a redirect hop
    assert error.reason == "forbidden_address"
    time.sleep(0.3)
    assert listener.connections == 0
    assert docs.requests == [f"/to?port={listener.port}"]


def test_at_most_five_redirects(docs):
    allow = [f"127.0.0.1:{docs.port}"]
    assert fetch(docs.url + "/hop/5", allow)[0] == PDF
    docs.requests.clear()
    error = refused(docs.url + "/hop/6", allow)
    assert error.reason == "too_many_redirects"
    assert docs.requests == [f"/hop/{n}" for n in range(6, 0, -1)]  # the sixth redirect is not followed


def test_size_limit_with_and_without_content_length(docs):
    allow = [f"127.0.0.1:{docs.port}"]
    assert refused(docs.url + "/big?size=200000", allow, max_size=100_000).reason == "too_large"
    assert refused(docs.url + "/big?size=200000&chunked=1", allow, max_size=100_000).reason == "too_large"
    assert len(fetch(docs.url + "/big?size=50000", allow, max_size=100_000)[0]) == 50009


def test_timeout_covers_the_whole_fetch(docs):
    allow = [f"127.0.0.1:{docs.port}"]
    started = time.monotonic()
    assert refused(docs.url + "/slow?seconds=3", allow, timeout=0.5).reason == "timeout"
    assert time.monotonic() - started < 2.5


def test_error_statuses_and_unreachable_hosts_are_refused(docs):
    allow = [f"127.0.0.1:{docs.port}"]
    error = refused(docs.url + "/status/404", allow)
    assert error.reason == "http_status" and "404" in error.message
    closed = Listener()
    port = closed.port
    closed.close()  # nothing listens there any more
    assert refused(f"http://127.0.0.1:{port}/doc.pdf", [f"127.0.0.1:{port}"]).reason == "unreachable"
