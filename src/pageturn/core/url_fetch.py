"""Fetching a document from a URL a client gave, without letting the client reach what it must not.

The server resolves every host itself and connects only to the addresses it checked (a resolver inside the
HTTP client, so a DNS answer cannot change between check and connect). Each redirect hop is checked the same
way. Loopback, private, link-local, metadata and other non-public addresses are refused unless the
configuration's allow-list names them (`host:port`, `[v6]:port`, an address, or a CIDR range)."""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import AsyncIterator, Iterable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from . import formats
from .errors import DomainError
from .records import WorkFileRecord
from .workfiles import WorkFiles

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
CHUNK = 1 << 16
_REDIRECTS = {301, 302, 303, 307, 308}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata endpoints: named apart so a refusal says what it protected.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
    "169.254.170.2",    # AWS ECS task metadata
    "169.254.169.253",  # AWS VPC DNS
    "fd00:ec2::254",    # AWS IPv6 metadata
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",      # Oracle Cloud (classic)
))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

# Text-like formats cannot be told from their bytes: the server's Content-Type is the hint.
_TEXT_TYPES = {"text/plain": "txt", "text/csv": "csv", "text/tab-separated-values": "tsv", "text/html": "html"}


class FetchError(DomainError):
    """A URL that may not or could not be fetched. `reason` is one of: bad_url, forbidden_address,
    too_many_redirects, timeout, too_large, http_status, unreachable."""

    status = 480
    error_code = "UrlFetchFailed"

    def __init__(self, reason: str, message: str):
        super().__init__(message, details={"reason": reason, "message": message},
                         status=480 if reason in ("bad_url", "forbidden_address", "too_large") else 580)
        self.reason = reason


# ---- the address policy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllowList:
    """Destinations the configuration allows although they are not public."""

    networks: tuple = ()                              # any port
    endpoints: frozenset = field(default_factory=frozenset)  # (address or lower-case host name, port)

    @classmethod
    def parse(cls, entries: Iterable[str] | "AllowList" | None) -> "AllowList":
        if isinstance(entries, AllowList):
            return entries
        networks, endpoints = [], set()
        for raw in entries or ():
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, port = _split_host_port(entry)
            try:
                host = str(ipaddress.ip_address(host))
            except ValueError:
                host = host.lower().rstrip(".")
            endpoints.add((host, port))
        return cls(tuple(networks), frozenset(endpoints))

    def allows(self, ip: IPAddress, port: int | None, host: str | None) -> bool:
        if any(ip.version == net.version and ip in net for net in self.networks):
            return True
        if port is None:
            return False
        names = {str(ip)}
        if host:
            names.add(host.lower().rstrip("."))
        return any((name, port) in self.endpoints for name in names)


def _split_host_port(entry: str) -> tuple[str, int]:
    if entry.startswith("["):
        host, sep, port = entry[1:].partition("]:")
    else:
        host, sep, port = entry.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"fetch_allow entry {entry!r} is not host:port, [v6]:port, an address or a CIDR range")
    return host, int(port)


def forbidden_category(ip: IPAddress | str) -> str | None:
    """Why an address is not public (None when it is): metadata, loopback, link-local, unspecified,
    multicast or private (which also covers shared, reserved and documentation ranges)."""
    ip = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return forbidden_category(embedded)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "private"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64) that the route would reach."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_address(ip: str | IPAddress, allow: Iterable[str] | AllowList | None = (), *, port: int | None = None,
                  host: str | None = None) -> None:
    """None when the server may connect to `ip` (on `port`, reached by the name `host`); else FetchError."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0] if isinstance(ip, str) else ip)
    except ValueError:
        raise FetchError("bad_url", f"{ip!r} is not an IP address") from None
    category = forbidden_category(address)
    if category is None or AllowList.parse(allow).allows(address, port, host):
        return
    shown = f"{host} ({address})" if host and host != str(address) else str(address)
    raise FetchError("forbidden_address", f"The URL points to a {category} address, {shown}, which this server "
                     "does not fetch from (an administrator can allow it with the fetch_allow setting)")


class CheckedResolver(AbstractResolver):
    """Resolves with the system resolver, then refuses the host when any of its addresses is not allowed:
    the HTTP client connects only to addresses that passed the check."""

    def __init__(self, allow: AllowList, inner: AbstractResolver | None = None):
        self.allow = allow
        self.inner = inner

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        if self.inner is None:
            self.inner = aiohttp.ThreadedResolver()
        try:
            results = await self.inner.resolve(host, port, family)
        except OSError as exc:
            raise FetchError("unreachable", f"The host {host} could not be resolved: {exc.strerror or exc}") from None
        if not results:
            raise FetchError("unreachable", f"The host {host} has no address")
        for result in results:
            check_address(result["host"], self.allow, port=port, host=host)
        return results

    async def close(self) -> None:
        if self.inner is not None:
            await self.inner.close()


# ---- fetching --------------------------------------------------------------------------------------------
def parse_url(url: str) -> URL:
    """An absolute http(s) URL, or FetchError('bad_url')."""
    if not isinstance(url, str) or not url.strip() or len(url) > 8192:
        raise FetchError("bad_url", "The URL must be a non-empty absolute http or https URL")
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        raise FetchError("bad_url", "The URL could not be parsed") from None
    _check_url_shape(parsed)
    return parsed


def _check_url_shape(url: URL) -> None:
    if url.scheme not in ("http", "https"):
        raise FetchError("bad_url", f"Only http and https URLs can be fetched, not {url.scheme or 'a relative URL'}")
    if not url.raw_host:
        raise FetchError("bad_url", "The URL has no host")


def _check_hop(url: URL, allow: AllowList) -> None:
    """Shape of every hop; an address literal is checked here since the client does not resolve it."""
    _check_url_shape(url)
    host = url.host or ""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return  # a name: the CheckedResolver checks what it resolves to
    check_address(host, allow, port=url.port)


@dataclass
class FetchedDocument:
    """A response being read: where it ended up, what it says it is, and its bytes as chunks."""

    url: URL
    content_type: str
    filename: str | None
    content_length: int | None
    _response: aiohttp.ClientResponse
    _max_size: int
    _deadline: float

    @property
    def extension_hint(self) -> str | None:
        """A file extension from the response's file name, the URL's path or its Content-Type."""
        for name in (self.filename, PurePosixPath(self.url.path).name):
            suffix = PurePosixPath(name or "").suffix[1:].lower()
            if suffix and formats.format_of(suffix) is not None:
                return suffix
        return _TEXT_TYPES.get(self.content_type)

    @property
    def name(self) -> str | None:
        """The document's name as the server or URL gives it, without its extension."""
        for name in (self.filename, PurePosixPath(self.url.path).name):
            if name and PurePosixPath(name).stem:
                return PurePosixPath(name).stem[:200]
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, refused once it passes the size limit or the deadline."""
        size = 0
        loop = asyncio.get_running_loop()
        while True:
            remaining = self._deadline - loop.time()
            if remaining <= 0:
                raise _timeout()
            try:
                chunk = await asyncio.wait_for(self._response.content.read(CHUNK), remaining)
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise _timeout() from None
            except aiohttp.ClientError as exc:
                raise FetchError("unreachable", f"The download broke off: {exc}") from None
            if not chunk:
                return
            size += len(chunk)
            if size > self._max_size:
                raise _too_large(self._max_size)
            yield chunk


def _timeout() -> FetchError:
    return FetchError("timeout", "The URL did not deliver the document in time")


def _too_large(limit: int) -> FetchError:
    return FetchError("too_large", f"The document at the URL is larger than the limit of {limit} bytes")


@contextlib.asynccontextmanager
async def open_url(url: str, *, allow: Iterable[str] | AllowList | None, timeout: float, max_size: int,
                   max_redirects: int = MAX_REDIRECTS) -> AsyncIterator[FetchedDocument]:
    """GET `url` following at most `max_redirects` redirects, every hop checked; yields the final response.
    `timeout` bounds the whole exchange, body included."""
    allow = AllowList.parse(allow)
    current = parse_url(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(allow), use_dns_cache=False, force_close=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     trust_env=False, headers={"User-Agent": "pageturn", "Accept": "*/*"}) as http:
        for _hop in range(max_redirects + 1):
            _check_hop(current, allow)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _timeout()
            try:
                response = await http.get(current, allow_redirects=False,
                                          timeout=aiohttp.ClientTimeout(total=remaining))
            except FetchError:
                raise
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise _timeout() from None
            except aiohttp.InvalidURL:
                raise FetchError("bad_url", "The URL could not be used") from None
            except aiohttp.ClientError as exc:
                raise FetchError("unreachable", f"The URL could not be reached: {exc}") from None
            try:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError("http_status", f"The URL answered {response.status} without a Location")
                    try:
                        current = current.join(URL(location))
                    except ValueError:
                        raise FetchError("bad_url", "The URL redirected to an unusable location") from None
                    continue
                if not 200 <= response.status < 300:
                    raise FetchError("http_status", f"The URL answered HTTP {response.status} instead of a document")
                if response.content_length is not None and response.content_length > max_size:
                    raise _too_large(max_size)
                disposition = response.content_disposition
                yield FetchedDocument(url=current, content_type=response.content_type.lower(),
                                      filename=disposition.filename if disposition else None,
                                      content_length=response.content_length, _response=response,
                                      _max_size=max_size, _deadline=deadline)
                return
            finally:
                response.release()
        raise FetchError("too_many_redirects", f"The URL redirected more than {max_redirects} times")


async def fetch_to_workfile(url: str, workfiles: WorkFiles, *, allow: Iterable[str] | AllowList | None,
                            timeout: float, max_size: int, extension: str | None = None, owner: str | None = None,
                            max_redirects: int = MAX_REDIRECTS) -> WorkFileRecord:
    """Fetch `url` into a new work file (see core.workfiles.WorkFiles.receive) and return its record, with
    the document's name as the URL gives it under "sourceName". Format rules are the work files' own: an
    unrecognisable document raises UnrecognizedFormat."""
    async with open_url(url, allow=allow, timeout=timeout, max_size=max_size,
                        max_redirects=max_redirects) as fetched:
        record = await workfiles.receive(fetched.chunks(), extension or fetched.extension_hint, owner=owner,
                                         content_length=fetched.content_length)
        record["sourceName"] = fetched.name
        return record

