"""Redaction creators and plain-text redactors over real HTTP: every match across pages, named patterns with
their checks, a Word document redacted through its PDF, and every error of the spec."""
from __future__ import annotations

import json

import pytest

from api.markup_client import burn, finish, pdftotext, upload, upload_markup
from api.prizm import Prizm
from markupgen import make_pages_with

SSN_RULE = {"find": {"type": "regex", "pattern": r"\d\d\d-\d\d-\d\d\d\d"},
            "redactWith": {"type": "RectangleRedaction", "reason": "(b)(6)", "fontColor": "#0000FF",
                           "fillColor": "#FF0000", "borderColor": "#00FF00", "borderThickness": 2,
                           "data": {"rule": "SSN"}}}


@pytest.fixture(scope="module")
def prizm(server):
    return Prizm(server.url)


def create(prizm: Prizm, file_id: str, rules: list[dict]) -> dict:
    r = prizm.post("/v2/redactionCreators", json={"input": {"source": {"fileId": file_id}, "rules": rules}})
    assert r.status_code == 200, r.text
    assert r.json()["input"]["source"] == {"fileId": file_id}
    return finish(prizm, f"/v2/redactionCreators/{r.json()['processId']}")


def marks_of(prizm: Prizm, result: dict) -> list[dict]:
    assert result["state"] == "complete", result
    return prizm.get(f"/PCCIS/V1/WorkFile/{result['output']['markupFileId']}").json()["marks"]


def test_every_match_across_pages(prizm):
    pdf = make_pages_with([["SSN 123-45-6789 and 987-65-4321", "nothing here"], ["no numbers"],
                           ["last page 555-12-3456"]])
    marks = marks_of(prizm, create(prizm, upload(prizm, pdf, "pdf"), [SSN_RULE]))
    assert [m["pageNumber"] for m in marks] == [1, 1, 3]
    for mark in marks:
        assert mark["type"] == "RectangleRedaction" and mark["reason"] == "(b)(6)"
        assert (mark["fontColor"], mark["fillColor"], mark["borderColor"], mark["borderThickness"]) == \
            ("#0000FF", "#FF0000", "#00FF00", 2)
        assert mark["data"] == {"rule": "SSN"} and mark["pageData"] == {"width": 612, "height": 792}
        assert 60 < mark["rectangle"]["y"] < 80 and 60 < mark["rectangle"]["width"] < 100
    # burned, the numbers are gone and the rest stays
    file_id = upload(prizm, pdf, "pdf")
    done = burn(prizm, file_id, upload_markup(prizm, marks))
    text = pdftotext(prizm.get(f"/PCCIS/V1/WorkFile/{done['output']['documentFileId']}").content)
    for number in ("123-45-6789", "987-65-4321", "555-12-3456", "6789", "4321", "3456"):
        assert number not in text
    assert "SSN" in text and "nothing here" in text and "last page" in text


def test_defaults_when_redact_with_holds_only_its_type(prizm):
    pdf = make_pages_with([["call 555-12-3456"]])
    marks = marks_of(prizm, create(prizm, upload(prizm, pdf, "pdf"), [
        {"find": {"type": "regex", "pattern": r"\d{3}-\d\d-\d{4}"}, "redactWith": {"type": "RectangleRedaction"}}]))
    assert len(marks) == 1
    assert (marks[0]["fontColor"], marks[0]["fillColor"], marks[0]["borderColor"], marks[0]["borderThickness"]) == \
        ("#FFFFFF", "#000000", "#000000", 1)


def test_named_patterns(prizm):
    pdf = make_pages_with([["mail ann.smith@example.co.uk or bob@test.org", "IBAN GB82 WEST 1234 5698 7654 32",
                            "bad IBAN GB00 WEST 1234 5698 7654 32", "card 4111 1111 1111 1111",
                            "not a card 4111 1111 1111 1112", "phone +44 20 7946 0958"]])
    file_id = upload(prizm, pdf, "pdf")

    def found(name: str) -> list[str]:
        marks = marks_of(prizm, create(prizm, file_id, [{"find": {"type": "namedPattern", "name": name},
                                                          "redactWith": {"type": "RectangleRedaction"}}]))
        return [f'{m["pageNumber"]}:{round(m["rectangle"]["y"])}' for m in marks]

    assert len(found("emailAddress")) == 2
    assert len(found("iban")) == 1                   # the mod-97 check refuses the second
    assert len(found("paymentCardNumber")) == 1      # the Luhn check refuses the second
    assert len(found("phoneNumber")) >= 1


def test_a_word_document_is_redacted_through_its_pdf(prizm, tmp_path):
    from docx import Document
    document = Document()
    document.add_paragraph("Contract between Acme and the client.")
    document.add_paragraph("Account holder SSN 321-54-9876 on file.")
    document.add_paragraph("Signed in Leeds.")
    path = tmp_path / "contract.docx"
    document.save(path)
    file_id = upload(prizm, path.read_bytes(), "docx")
    marks = marks_of(prizm, create(prizm, file_id, [SSN_RULE]))
    assert len(marks) == 1
    done = burn(prizm, file_id, upload_markup(prizm, marks))
    assert done["state"] == "complete", done
    text = pdftotext(prizm.get(f"/PCCIS/V1/WorkFile/{done['output']['documentFileId']}").content)
    assert "321-54-9876" not in text and "9876" not in text
    assert "Contract between Acme" in text and "Signed in Leeds" in text and "Account holder SSN" in text


def test_creator_errors(prizm):
    file_id = upload(prizm, make_pages_with([["x"]]), "pdf")

    def post(rules, source=None):
        return prizm.post("/v2/redactionCreators", json={"input": {"source": source or {"fileId": file_id},
                                                                   "rules": rules}})

    cases = [
        ([{**SSN_RULE, "redactWith": {"type": "RectangleRedaction", "fontColor": 5}}],
         "input.rules[0].redactWith.fontColor", {"type": "string"}),
        ([{**SSN_RULE, "redactWith": {"type": "RectangleRedaction", "fillColor": None}}],
         "input.rules[0].redactWith.fillColor", {"type": "string"}),
        ([{**SSN_RULE, "redactWith": {"type": "RectangleRedaction", "borderColor": []}}],
         "input.rules[0].redactWith.borderColor", {"type": "string"}),
        ([{**SSN_RULE, "redactWith": {"type": "RectangleRedaction", "borderThickness": 0}}],
         "input.rules[0].redactWith.borderThickness", {"type": "integer", "greaterThan": 0}),
        ([SSN_RULE, {**SSN_RULE, "redactWith": {"type": "RectangleRedaction", "borderThickness": 1.5}}],
         "input.rules[1].redactWith.borderThickness", {"type": "integer", "greaterThan": 0}),
    ]
    for rules, at, expected in cases:
        r = post(rules)
        assert r.status_code == 480, r.text
        assert r.json()["errorCode"] == "InvalidInput" and r.json()["errorDetails"]["at"] == at
        assert r.json()["errorDetails"]["expected"] == expected
    for rules, at in [([{"find": {"type": "regex", "pattern": "("}}], "input.rules[0].find.pattern"),
                      ([{"find": {"type": "words", "pattern": "x"}}], "input.rules[0].find.type"),
                      ([{"find": {"type": "namedPattern", "name": "ssn"}}], "input.rules[0].find.name"),
                      ([{**SSN_RULE, "redactWith": {"type": "TextRedaction"}}], "input.rules[0].redactWith.type"),
                      ([], "input.rules"), (None, "input.rules")]:
        r = post(rules)
        assert r.status_code == 480 and r.json()["errorDetails"]["at"] == at, (rules, r.text)
    r = post([SSN_RULE], source={"fileId": "A" * 43})
    assert r.status_code == 480 and r.json()["errorCode"] == "ResourceNotFound"
    assert r.json()["errorDetails"]["at"] == "input.source.fileId"
    broken = upload(prizm, b"%PDF-1.4 broken beyond repair", "pdf")
    result = create(prizm, broken, [SSN_RULE])
    assert (result["state"], result["errorCode"], result["percentComplete"]) == ("error", "MarkupCreationError", 0)
    assert prizm.get("/v2/redactionCreators/" + "C" * 43).status_code == 404


def plain_text(prizm: Prizm, source: str, markup: str, line_endings: str | None = None) -> dict:
    body = {"input": {"source": {"fileId": source}, "markup": {"fileId": markup}}}
    if line_endings is not None:
        body["input"]["dest"] = {"lineEndings": line_endings}
    r = prizm.post("/v2/plainTextRedactors", json=body)
    assert r.status_code == 200, r.text
    return finish(prizm, f"/v2/plainTextRedactors/{r.json()['processId']}")


@pytest.mark.storages("dir", "s3")
def test_plain_text_redactor(prizm, forget_local_copies):
    pdf = make_pages_with([["Name Ann Smith", "SSN 123-45-6789 on file"], ["second page 555-12-3456 end"]])
    source = upload(prizm, pdf, "pdf")
    forget_local_copies()  # on S3: the creator reads the document through the bucket
    marks = marks_of(prizm, create(prizm, source, [SSN_RULE]))
    markup = upload_markup(prizm, marks)
    forget_local_copies()  # and the redactor both the document and the markup
    for ending in ("\n", "\r\n"):
        result = plain_text(prizm, source, markup, ending)
        assert result["state"] == "complete", result
        assert result["input"]["dest"] == {"lineEndings": ending}
        text = prizm.get(f"/PCCIS/V1/WorkFile/{result['output']['fileId']}").content.decode()
        assert "123-45-6789" not in text and "555-12-3456" not in text
        assert "SSN <Text Redacted> on file" in text and "second page <Text Redacted> end" in text
        assert "Name Ann Smith" + ending in text
        if ending == "\n":
            assert "\r" not in text

    r = prizm.post("/v2/plainTextRedactors", json={"input": {"source": {"fileId": source}, "markup": {
        "fileId": markup}, "dest": {"lineEndings": "\r"}}})
    assert r.status_code == 480 and r.json()["errorDetails"] == {"in": "body", "at": "input.dest.lineEndings",
                                                                  "expected": {"enum": ["\n", "\r\n"]}}
    unknown = "A" * 43
    for body, at in [({"input": {"source": {"fileId": unknown}, "markup": {"fileId": markup}}}, "input.source.fileId"),
                     ({"input": {"source": {"fileId": source}, "markup": {"fileId": unknown}}}, "input.markup.fileId")]:
        r = prizm.post("/v2/plainTextRedactors", json=body)
        assert r.status_code == 480 and r.json()["errorCode"] == "ResourceNotFound"
        assert r.json()["errorDetails"]["at"] == at
    not_json = upload(prizm, b"not json at all", "txt")
    assert plain_text(prizm, source, not_json)["errorCode"] == "InvalidJson"
    invalid = upload(prizm, json.dumps({"marks": [{"uid": "a"}]}).encode(), "json")
    result = plain_text(prizm, source, invalid)
    assert (result["errorCode"], result["percentComplete"]) == ("InvalidMarkup", 0)
    broken = upload(prizm, b"%PDF-1.4 broken", "pdf")
    assert plain_text(prizm, broken, markup)["errorCode"] == "InternalError"


def test_a_runaway_pattern_costs_a_worker_not_the_server(make_server):
    server = make_server(render_timeout="2s", office_enabled="false")
    prizm = Prizm(server.url)
    pdf = make_pages_with([["a" * 40 + "!"]])
    file_id = upload(prizm, pdf, "pdf")
    catastrophic = [{"find": {"type": "regex", "pattern": "(a+)+$"}}]
    r = prizm.post("/v2/redactionCreators", json={"input": {"source": {"fileId": file_id}, "rules": catastrophic}})
    assert r.status_code == 200
    # meanwhile the server answers at once
    assert prizm.get("/PCCIS/V1/Service/Current/Health").status_code == 200
    result = finish(prizm, f"/v2/redactionCreators/{r.json()['processId']}", timeout=60)
    assert (result["state"], result["errorCode"]) == ("error", "MarkupCreationError")
