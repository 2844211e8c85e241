"""The base URL of links in answers (preview URLs, redirects). With no `public_url` it comes from the Host header,
which the client chooses: only a host this server was really reached at, or one the operator named, is echoed."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def host_allowed(request: web.Request, allowed_hosts: list[str]) -> bool:
    """The Host header names the address and port the connection arrived at (or localhost on a loopback
    address), or a configured host name."""
    try:
        parts = urlsplit("//" + request.host)
        name, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return False
    if not name or parts.username is not None or parts.password is not None:
        return False
    if name in {h.lower().rstrip(".") for h in allowed_hosts}:
        return True
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not isinstance(sockname, tuple) or len(sockname) < 2:
        return False
    local, local_port = _ip(str(sockname[0])), sockname[1]
    if local is None or port not in (None, local_port):
        return False
    given = _ip(name)
    if given is not None:
        mapped = getattr(local, "ipv4_mapped", None)
        return given == local or (mapped is not None and given == mapped)
    return name == "localhost" and local.is_loopback


def base_url(request: web.Request, public_url: str, allowed_hosts: list[str]) -> str | None:
    """`public_url`, else scheme://host of this request when its host is allowed, else None."""
    if public_url:
        return public_url.rstrip("/")
    if not host_allowed(request, allowed_hosts):
        return None
    return f"{request.scheme}://{request.host}"
