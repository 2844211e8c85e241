"""The one question the server asks each engine pool about its health."""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Health(Protocol):
    def healthy(self) -> bool:
        """True while the pool can serve work, or will shortly (processes starting or being replaced);
        False when it is stopped or none of its processes can run."""
        ...
