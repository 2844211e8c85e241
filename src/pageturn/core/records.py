"""The records the domain keeps in the metadata store, as typed dictionaries.

They stay dictionaries (not dataclasses) because the metadata store holds JSON: a record read from SQLite or
Redis is the same object the services pass around, with no conversion layer to keep in step."""
from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["source", "original", "revised"]   # which document of a session: its single one, or one of a pair


class WorkFileRecord(TypedDict):
    """Stored source bytes with an id, a format and a lifetime (PrizmDoc work files)."""

    fileId: str
    sha256: str
    size: int
    fileExtension: str
    detected: bool           # the format came from the content, not only from the given extension
    affinityToken: str
    created: float
    expires: float
    owner: str | None        # the session that uploaded it, when it came through a session
    sourceName: NotRequired[str | None]  # the name a fetched URL gave (not stored: only on the fetch's answer)


class DocumentPart(TypedDict):
    """One document a session views: its single source, or the original or revised of a comparison."""

    fileId: str
    sha256: str
    size: int
    extension: str
    owned: bool              # the session uploaded it, so the session's end may remove it


class SessionRecord(TypedDict):
    """A viewing session and its lifecycle."""

    id: str
    props: dict[str, Any]    # the validated viewing-session properties (core.properties), unknown ones kept
    created: float
    creationTime: str
    lifetime: float
    expires: float
    state: str               # active, stopped, errored, deleted, expired
    endStatus: int | None
    endMessage: str | None
    affinityToken: str
    affinityHint: str | None
    source: DocumentPart | None
    original: DocumentPart | None
    revised: DocumentPart | None
    started: bool
    sliding: bool            # False: a fixed end (Zoho sessions)
    replaces: NotRequired[str]
    replacedBy: NotRequired[str]
    cleaned: NotRequired[bool]
    workFileAffinityToken: NotRequired[str | None]
    viewerPermissions: NotRequired[dict[str, bool]]  # the viewer's print/download switches
    documentName: NotRequired[str | None]
    zoho: NotRequired[dict[str, Any]]  # tenant, document id, language of a Zoho API session
