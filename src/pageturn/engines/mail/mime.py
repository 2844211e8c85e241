"""MIME messages (.eml) with the standard library's `email` package, under MailLimits."""
from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from .model import Attachment, MailLimits, MailTooComplex, Message, clean_header

HEADER_LABELS = (("From", "From"), ("Date", "Sent"), ("To", "To"), ("Cc", "Cc"), ("Subject", "Subject"))


def parse_eml(data: bytes, limits: MailLimits) -> Message:
    if len(data) > limits.max_bytes:
        raise MailTooComplex(f"the message is larger than {limits.max_bytes} bytes")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # policy.default builds EmailMessage objects
    message = Message()
    for name, label in HEADER_LABELS:
        value = _header(parsed, name)
        if value:
            message.headers.append((label, value))
    message.subject = _header(parsed, "Subject")
    body = _body(parsed, limits)
    counter = [0]
    _walk(parsed, body, message, limits, 0, counter)
    if body is not None:
        text = _text_of(body)
        if len(text) > limits.max_body_chars:
            text, message.truncated = text[:limits.max_body_chars], True
        if body.get_content_type() == "text/html":
            message.html = text
        else:
            message.text = text
    return message


def _header(parsed: EmailMessage, name: str) -> str:
    try:
        value = parsed.get(name)
        return clean_header(str(value)) if value is not None else ""
    except Exception:  # a malformed header the policy cannot parse: show it as written rather than fail
        for raw_name, raw_value in parsed.raw_items():
            if raw_name.lower() == name.lower():
                return clean_header(str(raw_value))
        return ""


def _body(parsed: EmailMessage, limits: MailLimits) -> EmailMessage | None:
    _check_depth(parsed, limits)
    try:
        body = parsed.get_body(preferencelist=("html", "plain"))
    except Exception:
        return None
    return body if isinstance(body, EmailMessage) else None


def _check_depth(part: EmailMessage, limits: MailLimits, depth: int = 0) -> None:
    """get_body recurses through multiparts: refuse nesting deeper than the limit before it does."""
    if depth > limits.max_depth:
        raise MailTooComplex(f"the message nests parts deeper than {limits.max_depth} levels")
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        payload = part.get_payload()
        if isinstance(payload, list):
            if len(payload) > limits.max_parts:
                raise MailTooComplex(f"the message has more than {limits.max_parts} parts")
            for sub in payload:
                if isinstance(sub, EmailMessage):
                    _check_depth(sub, limits, depth + 1)


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass
    raw = part.get_payload(decode=True)
    return raw.decode("latin-1") if isinstance(raw, bytes) else ""


def _walk(part: EmailMessage, body: EmailMessage | None, message: Message, limits: MailLimits, depth: int,
          counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > limits.max_parts:
        raise MailTooComplex(f"the message has more than {limits.max_parts} parts")
    if depth > limits.max_depth:
        raise MailTooComplex(f"the message nests parts deeper than {limits.max_depth} levels")
    content_type = part.get_content_type()
    if content_type == "message/rfc822" or (part.get_content_maintype() == "message" and part.is_multipart()):
        inner = part.get_payload(0) if isinstance(part.get_payload(), list) else None
        if isinstance(inner, EmailMessage):
            name = part.get_filename() or ((_header(inner, "Subject") or "message") + ".eml")
            data = _message_bytes(inner)
            if data is not None:
                _add(message, limits, Attachment(_safe_name(name), "message/rfc822", data, True))
        return
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            if isinstance(sub, EmailMessage):
                _walk(sub, body, message, limits, depth + 1, counter)
        return
    if part is body:
        return
    disposition = part.get_content_disposition()
    filename = part.get_filename()
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if content_id and part.get_content_maintype() == "image" and disposition != "attachment":
        message.inline[content_id] = (content_type, data)
        return
    if disposition is None and not filename and content_type in ("text/plain", "text/html"):
        return  # the other alternative of the body
    name = filename or f"part-{counter[0]}.{_extension_for(content_type)}"
    _add(message, limits, Attachment(_safe_name(name), content_type, data))


def _message_bytes(inner: EmailMessage) -> bytes | None:
    """An attached message as bytes; one too damaged to write again is left out rather than failing the
    message it is attached to."""
    for policy in (email.policy.default, email.policy.compat32):
        try:
            return inner.as_bytes(policy=policy)
        except Exception:  # noqa: BLE001 - the generator's errors on damaged headers are many
            continue
    return None


def _add(message: Message, limits: MailLimits, attachment: Attachment) -> None:
    if len(message.attachments) >= limits.max_attachments:
        raise MailTooComplex(f"the message has more than {limits.max_attachments} attachments")
    message.attachments.append(attachment)


_EXTENSIONS = {"text/plain": "txt", "text/html": "html", "application/pdf": "pdf", "image/png": "png",
               "image/jpeg": "jpg", "image/gif": "gif", "message/rfc822": "eml"}


def _extension_for(content_type: str) -> str:
    return _EXTENSIONS.get(content_type, "bin")


def _safe_name(name: str) -> str:
    """A display name: no path, no control characters, bounded."""
    name = clean_header(str(name), 255).replace("/", "_").replace("\\", "_")
    return name or "attachment"
