"""Accessibility checks for the browser tests: axe-core (vendored from npm, pinned, checked by its hash)
injected into the page under test, and the Chromium accessibility tree through CDP."""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"


@cache
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "the vendored axe-core is not the pinned one"
    return data.decode("utf-8")


def axe_violations(page, context: str = "document") -> list[dict]:
    """Every axe violation (any impact) on the page as it is now, in a short form for assertion messages.
    Evaluated through the DevTools protocol, so the viewer's CSP (scripts from the server only) stays on."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate(f"""async () => {{
        const r = await axe.run({context}, {{ resultTypes: ['violations'] }});
        return r.violations.map(v => ({{ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary) }}));
    }}""")
    return result


def _ax_tree(page) -> list[dict]:
    cdp = page.context.new_cdp_session(page)
    try:
        return cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()


def accessible_nodes(page) -> list[tuple[str, str]]:
    """(role, name) of every node of the accessibility tree (CDP) that assistive technology is given."""
    found = []
    for node in _ax_tree(page):
        if node.get("ignored"):
            continue
        role = (node.get("role") or {}).get("value")
        name = (node.get("name") or {}).get("value")
        found.append((role if isinstance(role, str) else "", name if isinstance(name, str) else ""))
    return found


def accessible_text(page) -> str:
    """All names and text of the full accessibility tree (CDP), joined: what a screen reader can reach."""
    nodes = _ax_tree(page)
    parts = []
    for node in nodes:
        if node.get("ignored"):
            continue
        name = (node.get("name") or {}).get("value")
        if isinstance(name, str) and name:
            parts.append(name)
    return "\n".join(parts)
