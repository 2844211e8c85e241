"""The everyday formats beyond Office over real HTTP: one generated file of each renders with its text (or, for
photos, its pixels); SVG is made inert; JSON and XML are shown formatted; Markdown as its HTML."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import formatgen
from api.prizm import Prizm, document_text
from unit.test_url_fetch import Listener

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")


@pytest.fixture(scope="module")
def api(office_server) -> Prizm:
    return Prizm(office_server.url)



CASES = {
    "svg": lambda m: formatgen.svg(m),
    "odg": formatgen.odg,
    "dxf": formatgen.dxf,
    "emf": formatgen.emf,
    "wmf": formatgen.wmf,
    "vsdx": formatgen.vsdx,
    "xps": lambda m: formatgen.xps(m, FONT),
    "oxps": lambda m: formatgen.xps(m, FONT),
    "md": formatgen.markdown,
    "json": formatgen.json_document,
    "xml": formatgen.xml_document,
}
DETECTED = {"svg", "odg", "emf", "wmf", "vsdx", "xps"}   # found by content: no extension needed


@pytest.mark.parametrize("extension", sorted(CASES))
def test_each_format_renders_with_itsdocument_text(api, extension):
    marker = f"Marker{extension.capitalize()}Kestrel"
    data = CASES[extension](marker)
    sid = api.session_with(data, None if extension in DETECTED else extension)
    text = document_text(api, sid)
    assert marker in text.replace(" ", ""), text[:500]
    assert api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=60).status_code == 200


def test_json_and_xml_are_formatted_and_entities_not_expanded(api):
    text = document_text(api, api.session_with(formatgen.json_document("JsonPretty"), "json"))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert '"title": "JsonPretty",' in lines and '"ok": true' in lines  # one key per line: indented
    xml = document_text(api, api.session_with(formatgen.xml_document("XmlPretty"), "xml"))
    assert "<title>XmlPretty</title>" in xml and "expanded-entity" not in xml


def test_markdown_is_rendered_and_its_script_dropped(api):
    text = document_text(api, api.session_with(formatgen.markdown("MdMarker"), "md"))
    assert "Heading MdMarker" in text and "apples" in text and "#" not in text and "pwned" not in text


@pytest.mark.parametrize("make", [formatgen.avif, formatgen.heic], ids=["avif", "heic"])
def test_photo_formats(api, make):
    sid = api.session_with(make((30, 160, 40)))  # detected by content
    page = Image.open(io.BytesIO(api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid},
                                         timeout=60).content)).convert("RGB")
    r, g, b = page.getpixel((page.width // 2, page.height // 2))
    assert abs(r - 30) < 25 and abs(g - 160) < 25 and abs(b - 40) < 25


def test_svg_script_and_external_references_are_dropped(api):
    listener = Listener()
    try:
        beacon = f"http://127.0.0.1:{listener.port}"
        sid = api.session_with(formatgen.hostile_svg("SafeSvgMarker", beacon))
        text = document_text(api, sid)  # conversion finished: whatever it fetched has connected by now
        assert "SafeSvgMarker" in text.replace(" ", "") and "pwned" not in text
        svg = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "svgb"}, timeout=60)
        assert svg.status_code == 200
        page = svg.text
        assert "<script" not in page and "127.0.0.1" not in page and "onload" not in page
        assert listener.connections == 0
    finally:
        listener.close()


def test_postscript_is_refused_on_purpose(api):
    sid = api.create()
    r = api.upload(sid, b"%!PS-Adobe-3.0\n/Helvetica findfont 12 scalefont setfont\n", "ps")
    assert r.status_code == 580 and "Unrecognized" in r.reason
