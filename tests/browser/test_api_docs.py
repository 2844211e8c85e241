"""/docs renders the OpenAPI document with the vendored Swagger UI, under a strict CSP, with nothing fetched
from anywhere but pageturn."""
from __future__ import annotations

from urllib.parse import urlparse

from pageturn.api.openapi import document


def test_docs_page_lists_every_operation_under_its_csp(page, server):
    blocked: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: foreign.append(r.url)
            if urlparse(r.url).netloc not in (urlparse(server.url).netloc, "") and not r.url.startswith("data:")
            else None)
    response = page.goto(server.url + "/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = sum(len(methods) for methods in document()["paths"].values())
    page.wait_for_function("n => document.querySelectorAll('.opblock').length === n", arg=operations,
                           timeout=30_000)
    assert page.locator(".opblock-summary-path", has_text="/PCCIS/V1/ViewingSession").count() >= 1
    assert blocked == [] and foreign == [], (blocked, foreign)
