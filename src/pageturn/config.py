"""One settings object, filled from defaults, an optional TOML file, the environment and command-line flags
(later sources win). Every setting has a flag `--name-with-dashes` and a variable `PAGETURN_NAME_IN_CAPS`."""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: str | int | float) -> float:
    """'20m', '1d', '90s', '250ms' or a number of seconds -> seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 20m, 6h, 1d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_size(value: str | int) -> int:
    """'512M', '2G', '100k' or a number of bytes -> bytes."""
    if isinstance(value, int):
        return value
    match = re.match(r"^\s*(\d+)\s*([kmgKMG])?i?[bB]?\s*$", str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use e.g. 512M, 2G)")
    return int(match.group(1)) * {None: 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[
        (match.group(2) or "").lower() or None]


def _parse_list(value: str | list) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _setting(default: Any, help: str, kind: str = "str") -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, "kind": kind})
    return field(default=default, metadata={"help": help, "kind": kind})


@dataclass
class Settings:
    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(18681, "TCP port to listen on", "int")
    data_dir: Path = _setting(Path("./data"), "directory for metadata, documents and cached output", "path")
    metadata: str = _setting("sqlite", "where session and work-file records live: sqlite (in the data directory) or "
                             "a redis:// URL shared by several nodes (which then share the data directory or an "
                             "S3 storage bucket too)")
    storage: str = _setting("", "where documents and shared output are kept: empty for the data directory (the "
                            "default), or s3://bucket/prefix, the data directory then being this node's cache")
    s3_endpoint: str = _setting("", "S3 endpoint URL for a non-AWS server (e.g. http://minio:9000); empty: AWS "
                                "(AWS_ENDPOINT_URL_S3 is honoured too)")
    s3_region: str = _setting("", "S3 region; empty: AWS_REGION / AWS_DEFAULT_REGION / ~/.aws/config")
    s3_access_key_id: str = _setting("", "S3 access key; empty: the standard AWS chain (AWS_ACCESS_KEY_ID and "
                                     "AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, instance or pod role)")
    s3_secret_access_key: str = _setting("", "S3 secret key (with s3_access_key_id)")
    s3_addressing_style: str = _setting("auto", "S3 bucket addressing: auto, path (most self-hosted servers) or "
                                        "virtual")
    s3_multipart_threshold: int = _setting(16 << 20, "uploads larger than this go to S3 as multipart uploads "
                                           "(8 MiB parts)", "size")
    s3_timeout: float = _setting(10, "connect and read timeout of one S3 request", "duration")
    local_cache_size: int = _setting(10 << 30, "with S3 storage: most bytes of documents and output kept in the "
                                     "data directory; the least recently read are evicted", "size")
    public_url: str = _setting("", "base URL clients reach this server at (for links in answers); "
                               "default: taken from each request's Host header")
    allowed_hosts: list = _setting([], "host names (Host header, without port) this server answers links for when "
                                   "public_url is empty, besides the address it was reached at (comma-separated)",
                                   "list")
    frame_ancestors: str = _setting("'self'", "sites allowed to embed the viewer in a frame, as a CSP "
                                    "frame-ancestors source list (e.g. 'self' https://app.example.com)")
    session_lifetime: float = _setting(20 * 60, "how long a viewing session stays usable after its last use",
                                       "duration")
    workfile_lifetime: float = _setting(24 * 3600, "how long a work file is kept after creation", "duration")
    cache_lifetime: float = _setting(24 * 3600,
                                     "how long shared converted and rendered output is kept after it was written",
                                     "duration")
    sweep_interval: float = _setting(30, "how often expired sessions, work files and cache entries are removed",
                                     "duration")
    max_upload_size: int = _setting(512 << 20, "largest accepted upload or fetched document", "size")
    memory_cache_size: int = _setting(16 << 20, "most bytes of recently served pages and texts the server keeps in "
                                      "memory besides the disk cache (0 = none)", "size")
    render_workers: int = _setting(0, "render worker processes (0 = one per core)", "int")
    render_timeout: float = _setting(60, "longest time one page render may take", "duration")
    max_image_pixels: int = _setting(200_000_000, "largest source image (width x height) accepted", "int")
    render_max_memory_mb: int = _setting(2048, "address-space cap of each render worker in MiB; a page that needs "
                                         "more answers DocumentTooComplex and the worker is replaced", "int")
    office_workers: int = _setting(0, "LibreOffice processes (0 = one per core)", "int")
    office_timeout: float = _setting(120, "longest time one LibreOffice conversion may take", "duration")
    office_max_conversions: int = _setting(50, "conversions after which a LibreOffice process is recycled", "int")
    office_max_memory_mb: int = _setting(2048, "memory cap of each LibreOffice process in MiB (resident, watched "
                                         "while converting; address space capped 1 GiB above): a document that "
                                         "needs more answers DocumentTooComplex; above half of it after a "
                                         "conversion the process is recycled", "int")
    office_queue_limit: int = _setting(100, "conversions allowed to wait for a LibreOffice process", "int")
    office_enabled: bool = _setting(True, "start the LibreOffice pool (Office, text and HTML documents)", "bool")
    office_preview: bool = _setting(True, "serve a long Word document's first pages from a quick conversion of "
                                    "its beginning while the whole document converts", "bool")
    office_nice: int = _setting(10, "niceness of the LibreOffice processes (0-19): above 0 they yield the CPU to "
                                "page rendering while they start and convert", "int")
    compare_workers: int = _setting(1, "comparison processes (Word redlines) running at once", "int")
    compare_queue_limit: int = _setting(8, "comparisons allowed to wait for a comparison process", "int")
    compare_timeout: float = _setting(120, "longest time one comparison of two Word documents may take", "duration")
    compare_max_memory_mb: int = _setting(2048, "address space one comparison process may use", "int")
    zoho_api_keys: list = _setting([], "comma-separated API keys accepted by the Zoho-compatible API", "list")
    zoho_session_lifetime: float = _setting(6 * 3600, "lifetime of sessions created through the Zoho API",
                                            "duration")
    fetch_allow: list = _setting([], "host:port or CIDR entries the server may fetch from although they are "
                                 "loopback or private (comma-separated)", "list")
    fetch_timeout: float = _setting(30, "timeout for fetching a document from a URL", "duration")
    convert_workers: int = _setting(2, "content conversion processes run at once on a node", "int")
    convert_queue_limit: int = _setting(50, "content conversion processes allowed to wait on a node", "int")
    convert_timeout: float = _setting(600, "longest time one content conversion process may take", "duration")
    convert_max_pages: int = _setting(2000, "most output pages one content conversion process may produce", "int")
    convert_lifetime: float = _setting(20 * 60, "how long a content conversion process can be read after it "
                                       "was created (minSecondsAvailable may ask for longer)", "duration")
    ocr: str = _setting("auto", "auto: pages without a text layer get their text by OCR when first asked for; "
                        "off: never")
    ocr_languages: list = _setting(["eng"], "Tesseract languages for viewing OCR (comma-separated codes, "
                                   "e.g. eng,deu)", "list")
    log_level: str = _setting("info", "debug, info, warning or error")
    log_format: str = _setting("text", "text, or json for one JSON object per line (access and error logs)")
    access_log: bool = _setting(False, "log one line per request (with its request id, also sent back in "
                                "X-Request-Id); behind HAProxy its own log has them too", "bool")
    metrics_token: str = _setting("", "bearer token /metrics requires; without one, /metrics is served on "
                                  "metrics_port only")
    metrics_port: int = _setting(0, "serve /metrics on this port instead of the public one (0 = on the public "
                                 "port, which then needs metrics_token)", "int")
    metrics_host: str = _setting("127.0.0.1", "address metrics_port listens on")

    @classmethod
    def fields(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @property
    def effective_render_workers(self) -> int:
        return self.render_workers or os.cpu_count() or 1

    @property
    def effective_office_workers(self) -> int:
        return self.office_workers or os.cpu_count() or 1


def _convert(kind: str, value: Any) -> Any:
    if kind == "int":
        return int(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
    if kind == "path":
        return Path(value)
    if kind == "duration":
        return parse_duration(value)
    if kind == "size":
        return parse_size(value)
    if kind == "list":
        return _parse_list(value)
    return str(value)


def env_name(name: str) -> str:
    return "PAGETURN_" + name.upper()


def load_settings(config_file: str | Path | None = None, overrides: dict[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < config file (TOML, keys as the field names) < environment < explicit overrides (flags)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = config_file or environ.get("PAGETURN_CONFIG")
    if config_file:
        with open(config_file, "rb") as handle:
            raw = tomllib.load(handle)
        known = {f.name for f in Settings.fields()}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update(raw)
    for f in Settings.fields():
        if env_name(f.name) in environ:
            values[f.name] = environ[env_name(f.name)]
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    kinds = {f.name: f.metadata["kind"] for f in Settings.fields()}
    return Settings(**{name: _convert(kinds[name], value) for name, value in values.items()})
