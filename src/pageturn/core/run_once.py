"""Work that must run once across every node sharing one metadata store (a conversion of one source): the node
that takes the store's lock does it, the others wait for its result. The lock expires unless its holder keeps
renewing it, so a node that dies mid-work blocks the others for at most `ttl` seconds, then one of them takes
over."""
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from typing import Awaitable, Callable, Protocol

LOCK_TTL = 10.0     # seconds a dead holder can block the others
POLL = 0.25         # how often a waiting node looks for the result or a free lock


class LockStore(Protocol):
    """What storage.metadata's stores offer (Redis across nodes, an in-process lock for SQLite)."""

    def acquire_lock(self, name: str, owner: str, ttl: float) -> bool: ...
    def release_lock(self, name: str, owner: str) -> None: ...


def owner_id() -> str:
    """Names this holder in the lock (host and pid help an operator reading Redis; the random part keeps two
    attempts of one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class WaitedTooLong(Exception):
    """Another node held the lock and produced nothing within the time allowed."""


async def run_once(store: LockStore, name: str, done: Callable[[], bool], work: Callable[[], Awaitable[None]], *,
                   max_wait: float, ttl: float = LOCK_TTL, poll: float = POLL) -> bool:
    """Run `work` unless `done()` already holds or becomes true while another holder works. True when this
    call ran the work; False when the result came from elsewhere."""
    owner = owner_id()
    deadline = time.monotonic() + max_wait
    while not store.acquire_lock(name, owner, ttl):
        if done():
            return False
        if time.monotonic() > deadline:
            raise WaitedTooLong(name)
        await asyncio.sleep(poll)
    keeper = asyncio.create_task(_keep(store, name, owner, ttl))
    try:
        if done():  # finished by another holder between our look and our lock
            return False
        await work()
        return True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(Exception):  # an unreachable store lets the lock expire by itself
            store.release_lock(name, owner)


async def _keep(store: LockStore, name: str, owner: str, ttl: float) -> None:
    while True:
        await asyncio.sleep(ttl / 3)
        with contextlib.suppress(Exception):  # a passing store hiccup: the next renewal may succeed
            store.acquire_lock(name, owner, ttl)
