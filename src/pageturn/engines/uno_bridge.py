"""One LibreOffice process driven through UNO, converting one document at a time on request.

engines/office.py runs this file by path under Debian's /usr/bin/python3 (python3-uno exists only for that
interpreter), so it imports nothing but the standard library and UNO, never the venv or pageturn.

Protocol, one JSON object per line:
  first line written:   {"ready": true, "soffice_pid": 123, "version": "7.4"}  (started, configured, warmed up)
  stdin  {"id": 1, "op": "convert", "src": "/job/in.docx", "out": "/job/out.pdf", "target": "pdf",
          "filter": "MS Word 2007 XML" | null, "filter_options": "..." | null, "password": "..." | null,
          "expect": "text" | "spreadsheet" | "presentation" | null}
  stdout {"id": 1, "ok": true, "kind": "text", "sheets": [{"name": "A", "visible": true}] | null}
         {"id": 1, "ok": false, "error": "PasswordRequired" | "LoadFailed" | "ExportFailed" | "Unsupported"
          | "OfficeCrashed", "message": "..."}
  stdin  {"op": "ping"} -> {"ok": true};  {"op": "quit"} or end of input: LibreOffice is closed, then we exit.
After "OfficeCrashed" the bridge exits: its owner starts a new one.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

import uno
import unohelper
from com.sun.star.task import XInteractionHandler

SOFFICE_BIN = "/usr/lib/libreoffice/program/soffice.bin"
RESTART_REQUESTED = 81  # soffice.bin exits with this after creating a fresh profile; oosplash would restart it
NEVER_EXECUTE = 0       # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
NO_UPDATE = 0           # com.sun.star.document.UpdateDocMode.NO_UPDATE

# Settings applied before any document is loaded: no macros ever (besides MacroExecutionMode on every load),
# no lock, recovery or recent-document files. What a document may reach (network, files) is bounded by the
# sandbox office.py starts this bridge in, not here: LibreOffice has no setting that stops a Writer HTML import
# from fetching its images.
SETTINGS = {
    "/org.openoffice.Office.Common/Security/Scripting": {"MacroSecurityLevel": 3, "DisableMacrosExecution": True},
    "/org.openoffice.Office.Common/Misc": {"UseLocking": False},
    "/org.openoffice.Office.Common/History": {"PickListSize": 0},
    "/org.openoffice.Office.Recovery/AutoSave": {"Enabled": False},
    "/org.openoffice.Office.Recovery/RecoveryInfo": {"Enabled": False},
}

PDF_EXPORT = {
    "text": "writer_pdf_Export", "web": "writer_web_pdf_Export", "spreadsheet": "calc_pdf_Export",
    "presentation": "impress_pdf_Export", "drawing": "draw_pdf_Export",
}
# ExportBookmarks gives spreadsheets one top-level outline item per sheet at its first page: the owner reads
# the sheets' page ranges from it. ExportBookmarksToPDFDestination turns Writer bookmarks into named
# destinations (the comparison engine finds its change markers by them; nothing is drawn). Hidden slides and
# notes pages stay out, as in a slide show.
PDF_FILTER_DATA = {"ExportBookmarks": True, "ExportBookmarksToPDFDestination": True, "ExportNotesPages": False,
                   "ExportHiddenSlides": False}
DOCX_EXPORT = "MS Word 2007 XML"
# Import filters LibreOffice falls back to for bytes it does not recognise
PLAIN_IMPORTS = {"Text", "Text (encoded)", "Text - txt - csv (StarCalc)", "Text (StarWriter/Web)",
                 "Text (encoded) (StarWriter/Web)"}


class Crashed(Exception):
    """LibreOffice went away: the connection is dead."""


def log(message: str) -> None:
    print(f"uno_bridge[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def props(**values) -> tuple:
    result = []
    for name, value in values.items():
        prop = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        prop.Name = name
        prop.Value = value
        result.append(prop)
    return tuple(result)


class Interactions(unohelper.Base, XInteractionHandler):
    """Answers LibreOffice's questions without a person: a password request is refused and remembered (so a
    missing or wrong password becomes PasswordRequired instead of a hang), a warning is acknowledged, any other
    question is declined.

    Requests are told apart by their continuations, not by request.getRequest(): Debian's pyuno cannot turn
    the request exception into a Python object under Python 3.11 (it fails with "AttributeError: args")."""

    def __init__(self) -> None:
        self.password_requested = False
        self.questions = 0

    def handle(self, request) -> None:
        self.questions += 1
        continuations = request.getContinuations()
        if _find(continuations, "com.sun.star.task.XInteractionPassword") is not None:
            self.password_requested = True
            choice = _find(continuations, "com.sun.star.task.XInteractionAbort")
        else:
            choice = (_find(continuations, "com.sun.star.task.XInteractionDisapprove")
                      or _find(continuations, "com.sun.star.task.XInteractionApprove")
                      or _find(continuations, "com.sun.star.task.XInteractionAbort"))
        if choice is not None:
            choice.select()


def _find(continuations, interface: str):
    wanted = uno.getTypeByName(interface)
    for continuation in continuations:
        if continuation.queryInterface(wanted) is not None:
            return continuation
    return None


class Office:
    """The soffice.bin child and the UNO connection to it."""

    def __init__(self, profile: str, pipe_name: str, tmp: str):
        self.profile = profile
        self.pipe_name = pipe_name
        self.tmp = tmp
        self.process: subprocess.Popen | None = None
        self.desktop = None
        self.context = None

    # ---- start --------------------------------------------------------------------------------------------
    def start(self, deadline: float) -> None:
        for _ in range(3):
            self.process = self._launch()
            if self._connect(deadline):
                return
            code = self.process.poll()
            if code != RESTART_REQUESTED:
                raise RuntimeError(f"soffice exited with code {code} before accepting a connection")
            log("fresh profile created; starting LibreOffice again")
        raise RuntimeError("soffice kept asking to be restarted")

    def _launch(self) -> subprocess.Popen:
        env = dict(os.environ, TMPDIR=self.tmp, SAL_USE_VCLPLUGIN="svp")
        command = [
            SOFFICE_BIN, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
            "-env:UserInstallation=" + uno.systemPathToFileUrl(self.profile),
            f"--accept=pipe,name={self.pipe_name};urp;StarOffice.ComponentContext",
        ]
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr,
                                cwd=self.tmp, preexec_fn=_die_with_parent)

    def _connect(self, deadline: float) -> bool:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe_name};urp;StarOffice.ComponentContext"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                self.context = resolver.resolve(url)
            except Exception:  # NoConnectException until soffice listens
                time.sleep(0.1)
                continue
            self.desktop = self.context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", self.context)
            return True
        raise RuntimeError("LibreOffice did not accept a connection in time")

    def configure(self) -> None:
        provider = self.context.ServiceManager.createInstanceWithContext(
            "com.sun.star.configuration.ConfigurationProvider", self.context)
        for path, values in SETTINGS.items():
            try:
                access = provider.createInstanceWithArguments(
                    "com.sun.star.configuration.ConfigurationUpdateAccess", props(nodepath=path))
            except Exception as exc:  # a node this version lacks: the other layers still hold
                log(f"cannot configure {path}: {exc}")
                continue
            for name, value in values.items():
                try:
                    access.replaceByName(name, value)
                except Exception as exc:
                    log(f"cannot set {path}/{name}: {exc}")
            access.commitChanges()
        # read back the settings that guard against macros: refuse to run without them
        scripting = provider.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationAccess",
            props(nodepath="/org.openoffice.Office.Common/Security/Scripting"))
        if not (scripting.getByName("DisableMacrosExecution") and scripting.getByName("MacroSecurityLevel") == 3):
            raise RuntimeError("LibreOffice did not accept the security settings")

    def version(self) -> str:
        try:
            provider = self.context.ServiceManager.createInstanceWithContext(
                "com.sun.star.configuration.ConfigurationProvider", self.context)
            product = provider.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess", props(nodepath="/org.openoffice.Setup/Product"))
            return str(product.getByName("ooSetupVersionAboutBox"))
        except Exception:
            return ""

    def warm_up(self) -> None:
        """Loads each application and the PDF export once, so the first real document is as fast as the rest."""
        target = os.path.join(self.tmp, "warm-up.pdf")
        for factory, kind in (("swriter", "text"), ("scalc", "spreadsheet"), ("simpress", "presentation")):
            doc = self.desktop.loadComponentFromURL(f"private:factory/{factory}", "_blank", 0, props(Hidden=True))
            try:
                if kind == "text":
                    doc.getText().setString("warm up")
                self._store(doc, target, PDF_EXPORT[kind], PDF_FILTER_DATA)
            finally:
                _close(doc)
        os.unlink(target)

    # ---- convert ------------------------------------------------------------------------------------------
    def convert(self, request: dict) -> dict:
        src = request["src"]
        target = request.get("target") or "pdf"
        url = uno.systemPathToFileUrl(src)
        handler = Interactions()
        load = dict(Hidden=True, ReadOnly=True, MacroExecutionMode=NEVER_EXECUTE, UpdateDocMode=NO_UPDATE,
                    InteractionHandler=handler)
        if request.get("filter"):
            load["FilterName"] = request["filter"]
        if request.get("filter_options"):
            load["FilterOptions"] = request["filter_options"]
        if request.get("password"):
            load["Password"] = request["password"]
        try:
            doc = self.desktop.loadComponentFromURL(url, "_blank", 0, props(**load))
        except Exception as exc:
            self._check_alive()
            if handler.password_requested:
                return _failure("PasswordRequired", _password_message(request))
            return _failure("LoadFailed", f"LibreOffice could not open the document ({_describe(exc)})")
        if doc is None:
            self._check_alive()
            if handler.password_requested:
                return _failure("PasswordRequired", _password_message(request))
            return _failure("LoadFailed", "LibreOffice could not open the document")
        try:
            kind = _kind(doc)
            if kind is None:
                return _failure("Unsupported", "LibreOffice opened the document as an unsupported kind")
            problem = _unexpected(request, kind, _filter_used(doc))
            if problem:
                return _failure("LoadFailed", problem)
            if target == "pdf":
                filter_name, filter_data = PDF_EXPORT[kind], PDF_FILTER_DATA
            elif target == "docx" and kind == "text":
                filter_name, filter_data = DOCX_EXPORT, None
            else:
                return _failure("Unsupported", f"a {kind} document cannot be converted to {target}")
            try:
                self._store(doc, request["out"], filter_name, filter_data)
            except Exception as exc:
                self._check_alive()
                return _failure("ExportFailed", f"LibreOffice could not write the {target} ({_describe(exc)})")
            sheets = None
            if kind == "spreadsheet":
                sheets = [{"name": sheet.getName(), "visible": bool(sheet.IsVisible)} for sheet in doc.getSheets()]
            return {"ok": True, "kind": kind, "sheets": sheets, "filter": _filter_used(doc)}
        finally:
            _close(doc)

    @staticmethod
    def _store(doc, path: str, filter_name: str, filter_data: dict | None) -> None:
        values = dict(FilterName=filter_name, Overwrite=True)
        if filter_data:
            values["FilterData"] = uno.Any("[]com.sun.star.beans.PropertyValue", props(**filter_data))
        doc.storeToURL(uno.systemPathToFileUrl(path), props(**values))

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise Crashed(f"soffice exited with code {self.process.returncode}")
        try:
            self.desktop.getComponents()
        except Exception as exc:
            raise Crashed(f"the connection to LibreOffice is gone ({_describe(exc)})") from None

    # ---- stop ---------------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None and self.desktop is not None:
            try:
                self.desktop.terminate()
            except Exception:  # the connection drops as soffice exits: expected
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _kind(doc) -> str | None:
    if doc.supportsService("com.sun.star.text.WebDocument"):
        return "web"
    if doc.supportsService("com.sun.star.text.GenericTextDocument"):
        return "text"
    if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        return "spreadsheet"
    if doc.supportsService("com.sun.star.presentation.PresentationDocument"):
        return "presentation"
    if doc.supportsService("com.sun.star.drawing.DrawingDocument"):
        return "drawing"
    return None


def _unexpected(request: dict, kind: str, filter_used: str | None) -> str | None:
    """Why a detected document is not what was asked for: another application's kind, or LibreOffice's last
    resort of reading unknown bytes as plain text (a damaged Office file must fail, not show as garbage)."""
    expect = request.get("expect")
    if expect and ("text" if kind == "web" else kind) != expect:
        return f"the file opened as a {kind} document, not as a {expect} document"
    if not request.get("filter") and filter_used in PLAIN_IMPORTS:
        return "the file is not a valid document of its format (it only reads as plain text)"
    return None


def _filter_used(doc) -> str | None:
    for arg in doc.getArgs():
        if arg.Name == "FilterName":
            return str(arg.Value)
    return None


def _close(doc) -> None:
    try:
        doc.close(True)
    except Exception:
        try:
            doc.dispose()
        except Exception:
            pass


def _describe(exc: Exception) -> str:
    message = getattr(exc, "Message", None) or str(exc)
    return f"{type(exc).__name__}: {message}".strip().rstrip(":")


def _password_message(request: dict) -> str:
    if request.get("password"):
        return "The password is wrong"
    return "The document is protected by a password"


def _failure(error: str, message: str) -> dict:
    return {"ok": False, "error": error, "message": message}


def _die_with_parent() -> None:
    """Runs in soffice's child before exec: the kernel kills soffice when this bridge dies, however it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="LibreOffice user profile directory (kept across restarts)")
    parser.add_argument("--tmp", required=True, help="scratch directory for LibreOffice's own temporary files")
    parser.add_argument("--pipe-name", required=True, help="name of the UNO pipe, unique per process")
    parser.add_argument("--start-timeout", type=float, default=120)
    args = parser.parse_args()

    # replies go to a private copy of stdout; anything else printing to stdout lands on stderr instead
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    os.makedirs(args.profile, exist_ok=True)
    os.makedirs(args.tmp, exist_ok=True)

    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    office = Office(args.profile, args.pipe_name, args.tmp)
    signal.signal(signal.SIGTERM, lambda *_: (office.stop(), os._exit(0)))
    try:
        office.start(time.monotonic() + args.start_timeout)
        office.configure()
        office.warm_up()
    except Exception as exc:
        log("start failed: " + traceback.format_exc())
        reply({"ready": False, "error": "StartFailed", "message": _describe(exc)})
        office.stop()
        return 2
    reply({"ready": True, "soffice_pid": office.process.pid, "version": office.version()})

    code = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            reply({"ok": False, "error": "BadRequest", "message": "not JSON"})
            continue
        op = request.get("op")
        if op == "quit":
            break
        if op == "ping":
            reply({"id": request.get("id"), "ok": True})
            continue
        if op != "convert":
            reply({"id": request.get("id"), "ok": False, "error": "BadRequest", "message": f"unknown op {op!r}"})
            continue
        try:
            result = office.convert(request)
        except Crashed as exc:
            reply({"id": request.get("id"), "ok": False, "error": "OfficeCrashed", "message": str(exc)})
            code = 3
            break
        except Exception as exc:  # keep serving: one odd document must not end this process
            log("convert failed: " + traceback.format_exc())
            try:
                office._check_alive()
            except Crashed as crash:
                reply({"id": request.get("id"), "ok": False, "error": "OfficeCrashed", "message": str(crash)})
                code = 3
                break
            result = _failure("ConversionFailed", _describe(exc))
        result["id"] = request.get("id")
        reply(result)
    office.stop()
    shutil.rmtree(args.tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
