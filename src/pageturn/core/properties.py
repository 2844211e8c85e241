"""Viewing-session properties: validation of POST ViewingSession and the echo of GET with defaults filled in."""
from __future__ import annotations

import copy
from typing import Any, Callable

from .errors import InputError, invalid
from .formats import normalize_extension

RASTER_RESOLUTION_RANGE = (10, 600)


def default_properties() -> dict[str, Any]:
    return {
        "origin": {},
        "render": {"html5": {"alwaysUseRaster": False, "rasterResolution": 150}},
        "password": None,
        "watermarkText": None,
        "externalId": None,
        "attachmentIndex": 0,
        "attachmentDisplayName": None,
        "tenantId": None,
        "countOfInitialPages": 0,
        "documentSource": None,
        "documentExtension": None,
        "serverCaching": "full",
        "startConverting": None,
        "contentType": None,
        "pageContentEncryption": None,
        "watermarks": [],
        "minSecondsAvailable": None,
    }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_string(at: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise invalid(at, "a string or null", received=value)
        return value
    return check


def _choice(at: str, choices: tuple) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:
            raise invalid(at, "one of " + ", ".join("null" if c is None else f'"{c}"' for c in choices),
                          received=value)
        return value
    return check


def _int_range(at: str, low: int, high: int, nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if not _is_int(value) or not low <= value <= high:
            raise invalid(at, f"an integer from {low} to {high}", received=value)
        return value
    return check


def _boolean(at: str, nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            raise invalid(at, "true or false", received=value)
        return value
    return check


def _object(at: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise invalid(at, "an object", received=value)
        return value
    return check


def _extension(at: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(at, "a string or null", received=value)
        try:
            return normalize_extension(value)
        except ValueError as exc:
            raise invalid(at, str(exc), received=value) from None
    return check


def _watermarks(value: Any) -> Any:
    if not isinstance(value, list):
        raise invalid("watermarks", "an array of watermark objects", received=value)
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise invalid(f"watermarks[{index}]", "an object with a string \"type\"", received=item)
    try:  # the render engine validates the full shape where it exists
        from ..engines.watermark import parse_watermarks
    except ImportError:
        return value
    try:
        parse_watermarks(value)
    except ValueError as exc:
        raise invalid("watermarks", str(exc)) from None
    return value


_TOP_LEVEL: dict[str, Callable[[Any], Any]] = {
    "origin": _object("origin"),
    "password": _optional_string("password"),
    "watermarkText": _optional_string("watermarkText"),
    "externalId": _optional_string("externalId"),
    "tenantId": _optional_string("tenantId"),
    "attachmentIndex": _int_range("attachmentIndex", 0, 10_000),
    "attachmentDisplayName": _optional_string("attachmentDisplayName"),
    "countOfInitialPages": _int_range("countOfInitialPages", 0, 100_000),
    "documentSource": _choice("documentSource", (None, "api", "http")),
    "documentExtension": _extension("documentExtension"),
    "serverCaching": _choice("serverCaching", ("full", "none")),
    "startConverting": _choice("startConverting", (None, "initialPages", "none")),
    "contentType": _choice("contentType", (None, "png", "svg", "svga", "svgb", "jpeg")),
    "pageContentEncryption": _boolean("pageContentEncryption", nullable=True),
    "watermarks": _watermarks,
    "minSecondsAvailable": _int_range("minSecondsAvailable", 1, 10 * 365 * 86400, nullable=True),
}


def validate_properties(body: Any) -> dict[str, Any]:
    """The stored properties for a new session. Unknown properties are kept as given (the original echoes
    what it was sent), known ones are checked."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise invalid("", "a JSON object", received=body)
    props = default_properties()
    for key, value in body.items():
        if key == "render":
            props["render"] = _render(value)
        elif key in _TOP_LEVEL:
            props[key] = _TOP_LEVEL[key](value)
        else:
            props[key] = copy.deepcopy(value)
    if props["minSecondsAvailable"] is not None and props["serverCaching"] != "none":
        raise InputError("InputNotSupportedWithServerCachineEnabled",
                         {"in": "body", "at": "minSecondsAvailable",
                          "expected": "serverCaching set to \"none\" when minSecondsAvailable is given"})
    if props["documentSource"] == "http" and not props["externalId"]:
        raise InputError("MissingInput", {"in": "body", "at": "externalId",
                                          "expected": "the document's URL when documentSource is \"http\""})
    return props


def _render(value: Any) -> dict:
    if not isinstance(value, dict):
        raise invalid("render", "an object", received=value)
    render = copy.deepcopy(value)
    html5 = render.get("html5", {})
    if not isinstance(html5, dict):
        raise invalid("render.html5", "an object", received=html5)
    merged = {"alwaysUseRaster": False, "rasterResolution": 150, **html5}
    _boolean("render.html5.alwaysUseRaster")(merged["alwaysUseRaster"])
    _int_range("render.html5.rasterResolution", *RASTER_RESOLUTION_RANGE)(merged["rasterResolution"])
    render["html5"] = merged
    return render
