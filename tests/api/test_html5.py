"""The HTML5 viewing URLs over real HTTP on generated PDFs and images."""
from __future__ import annotations

import gzip
import io
import os
import signal
import time

import pytest
import requests
from PIL import Image

from api.prizm import V1, Prizm, error_code
from api.samples import (BLACK_BOX, KNOWN_FONT_SIZE, KNOWN_TEXT, KNOWN_TEXT_BASELINE_FROM_TOP, KNOWN_TEXT_X,
                         LINK_HREF, LINK_RECT, encrypted_pdf, known_pdf, png_image)

STORAGES = ("dir", "s3")  # every test here runs on the directory store and on S3 (conftest.storage)

PDF = known_pdf()


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


@pytest.fixture(scope="module")
def sid(api) -> str:
    return api.session_with(PDF)


def page(api, sid, n, **params):
    return api.get(f"/PCCIS/V1/Page/q/{n}", params={"DocumentID": "u" + sid, **params})


def image(r: requests.Response) -> Image.Image:
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return Image.open(io.BytesIO(r.content))


def test_document_attributes(api, sid):
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid})
    assert r.json() == {"pageCount": 3, "pageCountConfidence": 100}


def test_page_attributes_svg_and_png(api, sid):
    r = api.get("/PCCIS/V1/Page/q/0/Attributes", params={"DocumentID": "u" + sid, "ContentType": "svgb"})
    assert r.json() == {"version": "7.1", "contentType": "jpeg,png,svg", "imageBitDepth": 16, "imageHeight": 792,
                        "imageWidth": 612, "imageXResolution": 90, "imageYResolution": 90}
    r = api.get("/PCCIS/V1/Page/q/1/Attributes", params={"DocumentID": "u" + sid, "ContentType": "png"})
    assert r.json() == {"version": "7.1", "contentType": "jpeg,png", "imageBitDepth": 8, "imageHeight": 1240,
                        "imageWidth": 1754, "imageXResolution": 150, "imageYResolution": 150}
    rotated = api.get("/PCCIS/V1/Page/q/2/Attributes", params={"DocumentID": "u" + sid}).json()
    assert (rotated["imageWidth"], rotated["imageHeight"]) == (792, 612)


def test_png_page_matches_attributes_and_shows_known_content(api, sid):
    img = image(page(api, sid, 0))
    assert img.format == "PNG" and img.size == (1275, 1650)
    x, y, w, h = BLACK_BOX
    scale = 150 / 72
    assert img.convert("L").getpixel((int((x + w / 2) * scale), int((y + h / 2) * scale))) < 40
    assert img.convert("L").getpixel((int(500 * scale), int(700 * scale))) > 230
    r = page(api, sid, 0)
    assert r.headers["Accusoft-Data-Encrypted"] == "false"
    half = image(page(api, sid, 0, Scale="0.5"))
    assert half.size == (638, 825) or half.size == (637, 825)
    jpeg = image(page(api, sid, 1, ContentType="jpeg", Quality="60"))
    assert jpeg.format == "JPEG" and jpeg.size == (1754, 1240)


def test_svg_page_sizes_and_gzip(api, sid):
    r = page(api, sid, 0, ContentType="svgb")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/svg+xml"
    head = r.text[:2000]
    assert 'width="612' in head and 'height="792' in head
    r = requests.get(f"{api.base}/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "svg"},
                     headers={"Accept-Encoding": "gzip"}, stream=True)
    assert r.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(r.raw.read()).startswith((b"<?xml", b"<svg"))


def test_svg_not_available_for_raster_sources_and_always_use_raster(api):
    img_sid = api.session_with(png_image())
    r = page(api, img_sid, 0, ContentType="svgb")
    body = r.json()
    assert r.status_code == 200 and body["errorCode"] == "SvgNotAvailable"
    assert body["pageAttributes"]["contentType"] == "jpeg,png"
    png = image(page(api, img_sid, 0))
    assert png.size == (body["pageAttributes"]["imageWidth"], body["pageAttributes"]["imageHeight"])
    raster_sid = api.session_with(PDF, body={"render": {"html5": {"alwaysUseRaster": True, "rasterResolution": 72}}})
    body = page(api, raster_sid, 0, ContentType="svgb").json()
    assert body["errorCode"] == "SvgNotAvailable"
    assert (body["pageAttributes"]["imageWidth"], body["pageAttributes"]["imageHeight"]) == (612, 792)


def test_tiles_stitch_into_the_full_page(api, sid):
    full = image(page(api, sid, 0, Scale="0.5")).convert("RGB")
    stitched = Image.new("RGB", full.size, "red")
    for ty in range(0, full.height, 512):
        for tx in range(0, full.width, 512):
            r = api.get(f"/PCCIS/V1/Page/q/0/Tile/{tx}/{ty}/512/512", params={"DocumentID": "u" + sid, "Scale": "0.5"})
            tile = image(r).convert("RGB")
            assert tile.size == (min(512, full.width - tx), min(512, full.height - ty))  # trimmed at the edges
            stitched.paste(tile, (tx, ty))
    assert list(stitched.getdata()) == list(full.getdata())


def test_thumbnail_fits_the_box_keeping_aspect(api, sid):
    r = api.get("/PCCIS/V1/Page/q/1/200x200", params={"DocumentID": "u" + sid})
    thumb = image(r)
    assert thumb.width == 200 and 140 <= thumb.height <= 143
    thumb = image(api.get("/PCCIS/V1/Page/q/0/300x100", params={"DocumentID": "u" + sid, "ContentType": "jpeg"}))
    assert thumb.height == 100 and 76 <= thumb.width <= 78 and thumb.format == "JPEG"


def test_text_with_a_rectangle_per_character_and_links(api, sid):
    r = api.get("/PCCIS/V1/Document/q/0-2/Text", params={"DocumentID": "u" + sid},
                headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Accusoft-Data-Encrypted"] == "false"
    pages = sorted(r.json()["pages"], key=lambda p: p["number"])
    assert [p["number"] for p in pages] == [0, 1, 2]
    first = pages[0]
    assert (first["width"], first["height"]) == (612, 792)
    assert KNOWN_TEXT in first["text"]
    assert len(first["rectangles"]) == len(first["text"])
    start = first["text"].index(KNOWN_TEXT)
    left, top, width, height = first["rectangles"][start]
    assert abs(left - KNOWN_TEXT_X) < 2
    assert top < KNOWN_TEXT_BASELINE_FROM_TOP < top + height
    assert KNOWN_FONT_SIZE * 0.8 < height < KNOWN_FONT_SIZE * 1.6
    links = [m for m in first["markup"] if m["markType"] == "DocumentHyperlink"]
    assert len(links) == 1 and links[0]["changeType"] == "Add"
    props = links[0]["properties"]
    assert props["href"] == LINK_HREF
    rect = props["rectangle"]
    assert [round(rect[k]) for k in ("x", "y", "width", "height")] == list(LINK_RECT)
    assert "Landscape page" in pages[1]["text"]


@pytest.mark.parametrize("path,params,field", [
    ("/PCCIS/V1/Page/q/3", {}, "PageNumber"),
    ("/PCCIS/V1/Page/q/-1", {}, "PageNumber"),
    ("/PCCIS/V1/Page/q/0", {"Scale": "-1"}, "Scale"),
    ("/PCCIS/V1/Page/q/0", {"Scale": "1000"}, "Scale"),
    ("/PCCIS/V1/Page/q/0", {"Scale": "nan"}, "Scale"),
    ("/PCCIS/V1/Page/q/0", {"Scale": "19"}, "Scale"),
    ("/PCCIS/V1/Page/q/0", {"ContentType": "gif"}, "ContentType"),
    ("/PCCIS/V1/Page/q/0/Tile/5000/0/100/100", {}, "Tile"),
    ("/PCCIS/V1/Page/q/0/Tile/0/0/0/100", {}, "Width"),
    ("/PCCIS/V1/Page/q/0/0x100", {}, "Width"),
    ("/PCCIS/V1/Page/q/0/10.5x100", {}, "Width"),
    ("/PCCIS/V1/Page/q/0/Attributes", {"ContentType": "bmp"}, "ContentType"),
    ("/PCCIS/V1/Document/q/5-9/Text", {}, "PageNumberBegin"),
    ("/PCCIS/V1/Document/q/Attributes", {"DesiredPageCountConfidence": "101"}, "DesiredPageCountConfidence"),
])
def test_invalid_input_names_the_parameter(api, sid, path, params, field):
    r = api.get(path, params={"DocumentID": "u" + sid, **params})
    assert r.status_code == 480, r.text
    assert error_code(r) == "InvalidInput" and r.json()["errorDetails"]["at"] == field


def test_session_errors_on_page_urls(api):
    stopped = api.session_with(PDF)
    api.post(f"{V1}/u{stopped}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": "Bye"})
    assert page(api, stopped, 0).status_code == 418
    assert api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "xyz"}).status_code == 500
    assert api.get("/PCCIS/V1/Page/q/0").status_code == 500
    assert api.get("/PCCIS/V1/License/ClientViewer").status_code == 500


def test_password_protected_pdf_and_replacement(api):
    sid = api.session_with(encrypted_pdf("s3cret"))
    for r in (page(api, sid, 0), api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid})):
        assert r.status_code == 480
        assert r.headers["Accusoft-Status-Number"] == "4001"
        assert r.headers["Accusoft-Status-Message"] == "Document requires a password"
    wrong = api.post(f"{V1}/u{sid}/Replacement", json={"password": "nope"}).json()["viewingSessionId"]
    assert page(api, wrong, 0).headers.get("Accusoft-Status-Number") == "4001"
    right = api.post(f"{V1}/u{wrong}/Replacement", json={"password": "s3cret"}).json()["viewingSessionId"]
    assert image(page(api, right, 0)).size == (1275, 1650)
    text = api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + right}).json()
    assert "secret content" in text["pages"][0]["text"]


def test_watermark_changes_the_expected_corner(api):
    plain = api.session_with(PDF)
    marked = api.session_with(PDF, body={"watermarks": [{
        "type": "text", "opacity": 1.0, "text": "CONFIDENTIAL\nNOT FOR DISTRIBUTION", "color": "#ff0000",
        "fontFamily": "Consolas", "fontSize": "36pt", "fontWeight": "bold", "verticalAlign": "bottom",
        "horizontalAlign": "right"}]})
    a = image(page(api, plain, 1)).convert("RGB")
    b = image(page(api, marked, 1)).convert("RGB")
    w, h = a.size

    def reddish(img, box):
        return sum(1 for r, g, bl in img.crop(box).getdata() if r > 150 and g < 100 and bl < 100)

    bottom_right = (w // 2, h * 3 // 4, w, h)
    top_left = (0, 0, w // 2, h // 4)
    assert reddish(a, bottom_right) == 0
    assert reddish(b, bottom_right) > 500
    assert reddish(b, top_left) == 0
    thumb = image(api.get("/PCCIS/V1/Page/q/1/400x400", params={"DocumentID": "u" + marked})).convert("RGB")
    assert reddish(thumb, (200, 200, 400, 283)) > 20
    svg = page(api, marked, 1, ContentType="svgb").text
    assert "CONFIDENTIAL" in svg
    assert api.get(f"{V1}/u{marked}/SourceFile").content == PDF  # never on the source file


def test_cache_is_shared_for_full_sessions_and_private_for_none(api, server):
    data = known_pdf() + b"\n% variant"  # distinct bytes from the other tests
    first, second = api.session_with(data), api.session_with(data)
    image(page(api, first, 0, Scale="0.25"))
    shared = list((server.data_dir / "cache" / "shared").rglob("page.png-*"))
    image(page(api, second, 0, Scale="0.25"))
    assert list((server.data_dir / "cache" / "shared").rglob("page.png-*")) == shared
    private = api.session_with(data, body={"serverCaching": "none"})
    image(page(api, private, 0, Scale="0.25"))
    assert list((server.data_dir / "cache" / f"s-{private}").rglob("page.png-*"))
    assert api.delete(f"{V1}/u{private}").status_code == 204
    assert not (server.data_dir / "cache" / f"s-{private}").exists()


def _render_workers(server) -> list[int]:
    children = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if ppid == server.proc.pid and b"soffice" not in cmd and b"uno_bridge" not in cmd:
                children.append(int(pid))
    return children


def test_killed_worker_is_replaced_and_server_keeps_serving(api, server):
    sid = api.session_with(known_pdf() + b"\n% kill test")
    workers = _render_workers(server)
    assert workers, "render workers run as child processes"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    r = page(api, sid, 0, Scale="0.3")
    assert r.status_code in (200, 580)
    if r.status_code == 580:
        assert r.json()["errorCode"] in ("RenderFailed",)
    deadline = time.time() + 20
    while time.time() < deadline and page(api, sid, 0, Scale="0.3").status_code != 200:
        time.sleep(0.5)
    assert image(page(api, sid, 1, Scale="0.3")).size[0] > 0
    assert api.get("/PCCIS/V1/Service/Current/Health").status_code == 200


def test_initial_pages_are_rendered_before_they_are_asked_for(api, server):
    data = known_pdf() + b"\n% initial pages"
    sid = api.create({"countOfInitialPages": 2})
    assert api.upload(sid, data).status_code == 200
    api.post(f"{V1}/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"})
    import hashlib
    key = hashlib.sha256(data).hexdigest()
    pages = server.data_dir / "cache" / "shared" / "pages" / key
    deadline = time.time() + 20
    while time.time() < deadline and not all(list((pages / str(n)).glob("page.svg-*")) for n in (0, 1)):
        time.sleep(0.2)
    assert list((pages / "0").glob("page.svg-*")) and list((pages / "1").glob("page.svg-*"))
    assert not (pages / "2").exists()  # only the initial pages
    assert list((pages / "0").glob("text*.json"))  # text-ocr-<languages>.json while viewing OCR is on


def test_legacy_watermark_text_is_drawn_too(api):
    plain = image(page(api, api.session_with(PDF), 1, Scale="0.5")).convert("L")
    marked_sid = api.session_with(PDF, body={"watermarkText": "DRAFT COPY"})
    marked = image(page(api, marked_sid, 1, Scale="0.5")).convert("L")
    w, h = marked.size
    centre = (w // 4, h // 4, w * 3 // 4, h * 3 // 4)  # diagonal text crosses the middle of the page
    grey = sum(1 for v in marked.crop(centre).getdata() if v < 235)
    assert grey > sum(1 for v in plain.crop(centre).getdata() if v < 235) + 200
    assert "DRAFT COPY" in page(api, marked_sid, 1, ContentType="svgb").text
