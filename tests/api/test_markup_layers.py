"""Markup layers over real HTTP: CRUD with every mark type, every validation answer, document scope, owners,
tenant and private-session isolation, persistence across a restart."""
from __future__ import annotations

import copy

import pytest

from api.prizm import Prizm
from docgen import make_pdf_pages
from markupgen import every_mark


@pytest.fixture(scope="module")
def prizm(server):
    return Prizm(server.url)


@pytest.fixture(scope="module")
def pdf():
    return make_pdf_pages(2, image=False, lines=5)


def layer(name="Review", marks=None, **extra):
    return {"name": name, "comments": [{"markUid": "m-rect", "text": "looks good",
                                        "creationDateTime": "2026-12-01T10:00:00.000Z", "data": {}}],
            "data": {"k": "v"}, "marks": every_mark() if marks is None else marks, **extra}


def test_crud_with_every_mark_type(prizm, pdf):
    sid = prizm.session_with(pdf, "pdf")
    assert prizm.get(f"/MarkupLayers/u{sid}").json() == []
    body = layer(owner="Ann", clientOnly={"kept": [1, 2]})
    body["marks"][0]["somethingNew"] = {"x": 1}
    r = prizm.post(f"/MarkupLayers/u{sid}", json=body)
    assert r.status_code == 201, r.text
    layer_id = r.json()["layerRecordId"]
    assert len(layer_id) >= 40

    got = prizm.get(f"/MarkupLayers/u{sid}/{layer_id}").json()
    assert got["layerRecordId"] == layer_id and got["originalXmlName"] == "Review"
    assert got["marks"] == body["marks"]          # all 21 types, unknown properties kept
    assert {m["type"] for m in got["marks"]} == {m["type"] for m in every_mark()} and len(got["marks"]) == 21
    assert got["clientOnly"] == {"kept": [1, 2]} and got["comments"] == body["comments"] and got["owner"] == "Ann"

    listed = prizm.get(f"/MarkupLayers/u{sid}").json()
    assert [(x["name"], x["layerRecordId"], x["originalXmlName"], x["owner"]) for x in listed] == \
        [("Review", layer_id, "Review", "Ann")]

    # PUT replaces the whole layer; the owner stays unless the new body names one
    replaced = layer("Renamed", marks=every_mark()[:2])
    r = prizm.put(f"/MarkupLayers/u{sid}/{layer_id}", json=replaced)
    assert r.status_code == 200 and r.json() == {"layerRecordId": layer_id}
    got = prizm.get(f"/MarkupLayers/u{sid}/{layer_id}").json()
    assert got["name"] == "Renamed" and len(got["marks"]) == 2 and "clientOnly" not in got and got["owner"] == "Ann"

    # the viewer control's update: POST with X-HTTP-Method-Override: PUT
    r = prizm.post(f"/MarkupLayers/u{sid}/{layer_id}", json=layer("Third", marks=[]),
                   headers={"X-HTTP-Method-Override": "PUT"})
    assert r.status_code == 200, r.text
    assert prizm.get(f"/MarkupLayers/u{sid}/{layer_id}").json()["marks"] == []
    assert prizm.post(f"/MarkupLayers/u{sid}/{layer_id}", json=layer()).status_code == 405

    assert prizm.delete(f"/MarkupLayers/u{sid}/{layer_id}").status_code == 204
    r = prizm.get(f"/MarkupLayers/u{sid}/{layer_id}")
    assert r.status_code == 404 and r.json()["errorCode"] == "NotFound"
    assert prizm.delete(f"/MarkupLayers/u{sid}/{layer_id}").status_code == 404
    assert prizm.put(f"/MarkupLayers/u{sid}/{layer_id}", json=layer()).status_code == 404
    assert prizm.get(f"/MarkupLayers/u{sid}").json() == []


def test_layers_belong_to_the_document(prizm, pdf):
    first = prizm.session_with(pdf, "pdf")
    layer_id = prizm.post(f"/MarkupLayers/u{first}", json=layer(owner="Bob")).json()["layerRecordId"]
    second = prizm.session_with(pdf, "pdf")          # a new session on the same bytes sees the layer
    assert [x["layerRecordId"] for x in prizm.get(f"/MarkupLayers/u{second}").json()] == [layer_id]
    assert prizm.get(f"/MarkupLayers/u{second}/{layer_id}").json()["owner"] == "Bob"

    other = prizm.session_with(make_pdf_pages(1, image=False, lines=3), "pdf")   # another document: nothing
    assert prizm.get(f"/MarkupLayers/u{other}").json() == []
    assert prizm.get(f"/MarkupLayers/u{other}/{layer_id}").status_code == 404

    tenant = prizm.session_with(pdf, "pdf", body={"tenantId": "other-tenant"})   # another tenant: nothing
    assert prizm.get(f"/MarkupLayers/u{tenant}").json() == []
    assert prizm.delete(f"/MarkupLayers/u{tenant}/{layer_id}").status_code == 404

    private = prizm.session_with(pdf, "pdf", body={"serverCaching": "none"})     # private: its own layers
    assert prizm.get(f"/MarkupLayers/u{private}").json() == []
    own = prizm.post(f"/MarkupLayers/u{private}", json=layer()).json()["layerRecordId"]
    assert own not in [x["layerRecordId"] for x in prizm.get(f"/MarkupLayers/u{first}").json()]
    assert prizm.delete(f"/PCCIS/V1/ViewingSession/u{private}").status_code == 204
    again = prizm.session_with(pdf, "pdf", body={"serverCaching": "none"})
    assert prizm.get(f"/MarkupLayers/u{again}/{own}").status_code == 404


def test_unknown_session_or_no_document_is_bad_gateway(prizm):
    for path in ("/MarkupLayers/unot-a-session-id-at-all-xx", "/MarkupLayers/x"):
        r = prizm.get(path)
        assert r.status_code == 502 and r.json()["errorCode"] == "BadGateway"
    empty = prizm.create()
    r = prizm.post(f"/MarkupLayers/u{empty}", json=layer())
    assert r.status_code == 502 and r.json()["errorCode"] == "BadGateway"


def _mark(kind_index: int, **change) -> dict:
    mark = copy.deepcopy(every_mark()[kind_index])
    for path, value in change.items():
        target = mark
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is KeyError:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return mark


RECT, LINE, FREEHAND, HIGHLIGHT, POLY, REDACT = 8, 6, 1, 3, 7, 9
INVALID = [
    (_mark(RECT, type="SquareAnnotation"), "marks[0].type", "InvalidInput"),
    (_mark(RECT, type=KeyError), "marks[0].type", "MissingInput"),
    (_mark(RECT, uid=KeyError), "marks[0].uid", "MissingInput"),
    (_mark(RECT, uid=7), "marks[0].uid", "InvalidInput"),
    (_mark(RECT, pageNumber=0), "marks[0].pageNumber", "InvalidInput"),
    (_mark(RECT, pageNumber=3), "marks[0].pageNumber", "InvalidInput"),     # the document has two pages
    (_mark(RECT, pageNumber=KeyError), "marks[0].pageNumber", "MissingInput"),
    (_mark(RECT, rectangle__x=600), "marks[0].rectangle.x", "InvalidInput"),   # off the page
    (_mark(RECT, rectangle__y=-50), "marks[0].rectangle.y", "InvalidInput"),
    (_mark(RECT, rectangle__width=-1), "marks[0].rectangle.width", "InvalidInput"),
    (_mark(RECT, rectangle__height="tall"), "marks[0].rectangle.height", "InvalidInput"),
    (_mark(RECT, rectangle=KeyError), "marks[0].rectangle", "MissingInput"),
    (_mark(RECT, pageData=KeyError), "marks[0].pageData", "MissingInput"),
    (_mark(RECT, pageData__width=0), "marks[0].pageData.width", "InvalidInput"),
    (_mark(RECT, borderColor="red"), "marks[0].borderColor", "InvalidInput"),
    (_mark(RECT, fillColor="#12345"), "marks[0].fillColor", "InvalidInput"),
    (_mark(RECT, opacity=300), "marks[0].opacity", "InvalidInput"),
    (_mark(RECT, borderThickness=-2), "marks[0].borderThickness", "InvalidInput"),
    (_mark(RECT, interactionMode="Partial"), "marks[0].interactionMode", "InvalidInput"),
    (_mark(RECT, data={"n": 1}), "marks[0].data.n", "InvalidInput"),
    (_mark(REDACT, reason=5), "marks[0].reason", "InvalidInput"),
    (_mark(LINE, endPoint__x=9999), "marks[0].endPoint.x", "InvalidInput"),
    (_mark(LINE, startPoint=KeyError), "marks[0].startPoint", "MissingInput"),
    (_mark(POLY, points=[{"x": 1, "y": 1}]), "marks[0].points", "InvalidInput"),
    (_mark(FREEHAND, path="M10,10 L9999,10"), "marks[0].path.x", "InvalidInput"),
    (_mark(FREEHAND, path="hello"), "marks[0].path", "InvalidInput"),
    (_mark(HIGHLIGHT, lineGroups=[]), "marks[0].lineGroups", "InvalidInput"),
    (_mark(HIGHLIGHT, lineGroups__0__lines__0__x=700), "marks[0].lineGroups[0].lines[0].x", "InvalidInput"),
    (_mark(4, imageDataUrl="javascript:alert(1)"), "marks[0].imageDataUrl", "InvalidInput"),
]


@pytest.mark.parametrize("mark,at,code", INVALID, ids=[f"{i}-{x[1]}" for i, x in enumerate(INVALID)])
def test_every_invalid_mark_answers_480_naming_it(prizm, pdf, mark, at, code):
    sid = prizm.session_with(pdf, "pdf")
    for send in (lambda b: prizm.post(f"/MarkupLayers/u{sid}", json=b),):
        r = send({"name": "x", "marks": [mark]})
        assert r.status_code == 480, r.text
        assert r.json()["errorCode"] == code and r.json()["errorDetails"]["at"] == at, r.text
    good = prizm.post(f"/MarkupLayers/u{sid}", json=layer(marks=[])).json()["layerRecordId"]
    r = prizm.put(f"/MarkupLayers/u{sid}/{good}", json={"name": "x", "marks": [mark]})
    assert r.status_code == 480 and r.json()["errorDetails"]["at"] == at


def test_layer_level_validation(prizm, pdf):
    sid = prizm.session_with(pdf, "pdf")
    cases = [("not json", "", None), ([1, 2], "", None), ({"name": 5, "marks": []}, "name", None),
             ({"marks": "x"}, "marks", None), ({"marks": [every_mark()[0], every_mark()[0]]}, "marks[1].uid", None),
             ({"marks": [], "comments": [5]}, "comments[0]", None), ({"marks": [], "data": {"a": 1}}, "data.a", None),
             ({"marks": [], "owner": 5}, "owner", None)]
    for body, at, _ in cases:
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        r = prizm.post(f"/MarkupLayers/u{sid}", **kwargs)
        assert r.status_code == 480, (body, r.text)
        assert r.json()["errorDetails"]["at"] == at, (body, r.text)


def test_layers_survive_a_restart(make_server):
    server = make_server()
    prizm = Prizm(server.url)
    pdf = make_pdf_pages(1, image=False, lines=3)
    sid = prizm.session_with(pdf, "pdf")
    layer_id = prizm.post(f"/MarkupLayers/u{sid}", json=layer()).json()["layerRecordId"]
    server.restart()
    prizm = Prizm(server.url)
    sid = prizm.session_with(pdf, "pdf")
    assert prizm.get(f"/MarkupLayers/u{sid}/{layer_id}").json()["marks"] == every_mark()


def test_layers_in_redis_are_shared_by_nodes(make_server, redis_url):
    one = Prizm(make_server(metadata=redis_url).url)
    two = Prizm(make_server(metadata=redis_url).url)
    pdf = make_pdf_pages(1, image=False, lines=4)
    layer_id = one.post(f"/MarkupLayers/u{one.session_with(pdf, 'pdf')}", json=layer()).json()["layerRecordId"]
    sid = two.session_with(pdf, "pdf")
    assert two.get(f"/MarkupLayers/u{sid}/{layer_id}").json()["name"] == "Review"
    # a burner process started on one node is polled on the other
    from api.markup_client import finish, upload, upload_markup
    r = one.post("/PCCIS/V1/MarkupBurner", json={"input": {"documentFileId": upload(one, pdf, "pdf"),
                                                           "markupFileId": upload_markup(one, every_mark()[:3])}})
    done = finish(two, f"/PCCIS/V1/MarkupBurner/{r.json()['processId']}")
    assert done["state"] == "complete" and done["output"]["documentFileId"]
