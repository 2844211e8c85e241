// Annotation mode: drawing, selecting and editing marks on the pages, the side panel that lists them, saving
// and loading markup layers (/MarkupLayers/u{id}), and burning them into a PDF to download
// (/PCCIS/V1/ViewingSession/u{id}/MarkupBurner). Off unless the viewer's config turns it on ("edit" or
// "readonly"); in "readonly" the marks show but nothing can be changed.

import { boundsOf, label, pagesOf, REDACTION_TYPES, renderMark, svgElement, svgLayer, TEXT_SELECTION_TYPES }
  from "./markup-render.js";

const TOOLS = [
  // [tool, label, shortcut]
  ["select", "Select", "v"], ["highlight", "Highlight", "h"], ["underline", "Underline", "u"],
  ["strike", "Strike-through", "k"], ["rectangle", "Rectangle", "r"], ["ellipse", "Ellipse", "e"],
  ["line", "Line", "l"], ["arrow", "Arrow", "a"], ["ink", "Freehand ink", "i"], ["note", "Text note", "t"],
  ["redact-area", "Redact area", "x"], ["redact-text", "Redact selected text", "X"],
];
const TEXT_TOOLS = new Set(["highlight", "underline", "strike", "redact-text"]);
const MAX_UNDO = 100;

function typingIn(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName)
    || (target.tagName === "INPUT" && !["button", "checkbox", "radio", "color"].includes(target.type));
}

function uid() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function now() { return new Date().toISOString(); }

function round(v) { return Math.round(v * 100) / 100; }

export class Markup {
  /**
   * @param {{api, config: {mode: "edit"|"readonly", userName?: string}, unitSize: (page) => {width, height},
   *          scrollToPage: (page) => void, fileName: () => string, canDownload: boolean}} options
   */
  constructor({ api, config, unitSize, scrollToPage, fileName, canDownload }) {
    this.api = api;
    this.editable = config.mode === "edit";
    this.userName = (typeof config.userName === "string" && config.userName) || "Anonymous";
    this.unitSize = unitSize;
    this.scrollToPage = scrollToPage;
    this.fileName = fileName;
    this.canDownload = canDownload;
    this.layers = [];          // [{layerRecordId, name, owner, marks, comments, editable, extra}]
    this.own = null;           // the layer this viewer edits
    this.pages = new Map();    // page -> {view, svg}
    this.tool = "select";
    this.color = "#E0245E";
    this.selected = null;
    this.undoStack = [];
    this.redoStack = [];
    this.dirty = false;
    this.drag = null;
    this.base = `${api.base}/MarkupLayers/u${encodeURIComponent(api.id)}`;
    this.buildChrome();
    if (this.editable) this.bindKeys();
    document.addEventListener("mouseup", () => this.maybeTextMark());
    document.addEventListener("keyup", (event) => { if (event.shiftKey) this.maybeTextMark(); });
  }

  // ---- chrome: the tool bar and the side panel -------------------------------------------------------------
  buildChrome() {
    const bar = document.getElementById("markup-bar");
    const panel = document.getElementById("markup-panel");
    this.bar = bar;
    this.panel = panel;
    bar.hidden = false;
    panel.hidden = false;
    document.body.classList.add("markup-on");
    this.status = bar.querySelector("#markup-status");
    const tools = bar.querySelector("#markup-tools");
    this.toolButtons = new Map();
    if (this.editable) {
      for (const [tool, text, key] of TOOLS) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "tool-button";
        button.dataset.tool = tool;
        button.textContent = text;
        button.title = `${text} (${key === "X" ? "Shift+X" : key.toUpperCase()})`;
        button.setAttribute("aria-label", text);
        button.setAttribute("aria-pressed", String(tool === this.tool));
        button.addEventListener("click", () => this.setTool(tool));
        tools.appendChild(button);
        this.toolButtons.set(tool, button);
      }
      this.colorInput = bar.querySelector("#markup-color");
      this.colorInput.value = this.color;
      this.colorInput.addEventListener("input", () => {
        this.color = this.colorInput.value.toUpperCase();
        if (this.selected) this.recolour(this.selected, this.color);
      });
      this.reasonInput = bar.querySelector("#markup-reason");
      bar.querySelector("#markup-undo").addEventListener("click", () => this.undo());
      bar.querySelector("#markup-redo").addEventListener("click", () => this.redo());
      bar.querySelector("#markup-save").addEventListener("click", () => this.save());
    } else {
      for (const id of ["markup-color", "markup-reason", "markup-undo", "markup-redo", "markup-save", "markup-reason-label",
        "markup-color-label"]) {
        bar.querySelector(`#${id}`)?.remove();
      }
      const note = document.createElement("span");
      note.className = "markup-readonly";
      note.textContent = "Annotations (read-only)";
      tools.appendChild(note);
    }
    const burn = bar.querySelector("#markup-burn");
    if (this.canDownload) burn.addEventListener("click", () => this.burnAndDownload());
    else burn.remove();
    this.list = panel.querySelector("#markup-list");
    this.editor = panel.querySelector("#markup-editor");
    this.updateUndoButtons();
  }

  say(text) { if (this.status) this.status.textContent = text; }

  setTool(tool) {
    if (!this.editable) return;
    this.tool = tool;
    for (const [name, button] of this.toolButtons) button.setAttribute("aria-pressed", String(name === tool));
    document.body.dataset.markupTool = tool;
    for (const { svg } of this.pages.values()) this.applyToolClass(svg);
    if (TEXT_TOOLS.has(tool)) this.maybeTextMark();
    this.say(`${TOOLS.find(([t]) => t === tool)[1]} tool`);
  }

  applyToolClass(svg) {
    const drawing = this.editable && !TEXT_TOOLS.has(this.tool) && this.tool !== "select";
    svg.classList.toggle("drawing", drawing);
    svg.classList.toggle("selecting", this.editable && this.tool === "select");
  }

  // ---- layers ---------------------------------------------------------------------------------------------------
  async request(url, { method = "GET", body } = {}) {
    const response = await fetch(url, { method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : undefined, body: body ? JSON.stringify(body) : undefined });
    if (!response.ok) {
      let detail = "";
      try { const json = await response.json(); detail = json.errorDetails?.at || json.errorCode || ""; } catch { /* no body */ }
      throw new Error(`${response.status} ${detail}`.trim());
    }
    return response.status === 204 ? null : response.json();
  }

  async load() {
    try {
      const listed = await this.request(this.base);
      const layers = [];
      for (const item of listed) {
        const layer = await this.request(`${this.base}/${encodeURIComponent(item.layerRecordId)}`);
        const { marks = [], comments = [], name = "", owner = item.owner || "", ...extra } = layer;
        layers.push({ layerRecordId: item.layerRecordId, name, owner, marks, comments, extra,
          editable: this.editable && owner === this.userName });
      }
      this.layers = layers;
      this.own = layers.find((l) => l.editable) || null;
      if (!this.own && this.editable) {
        this.own = { layerRecordId: null, name: `Annotations by ${this.userName}`, owner: this.userName, marks: [],
          comments: [], extra: {}, editable: true };
        this.layers.push(this.own);
      }
      this.dirty = false;
      this.refresh();
      this.say(`${this.allMarks().length} annotations loaded`);
    } catch (error) {
      this.say(`Annotations could not be loaded: ${error.message}`);
    }
  }

  async save() {
    if (!this.own) return;
    const own = this.own;
    const body = { ...own.extra, name: own.name, owner: this.userName, comments: own.comments, data: own.extra.data || {},
      marks: own.marks };
    delete body.layerRecordId;
    delete body.originalXmlName;
    this.say("Saving…");
    try {
      if (own.layerRecordId) {
        await this.request(`${this.base}/${encodeURIComponent(own.layerRecordId)}`, { method: "PUT", body });
      } else {
        own.layerRecordId = (await this.request(this.base, { method: "POST", body })).layerRecordId;
      }
      this.dirty = false;
      this.say(`Saved ${own.marks.length} annotations`);
      document.body.dataset.markupSaved = String(Date.now());
    } catch (error) {
      this.say(`Saving failed: ${error.message}`);
    }
  }

  allMarks() {
    const out = [];
    for (const layer of this.layers) for (const mark of layer.marks) out.push({ mark, layer });
    return out;
  }

  find(uidValue) {
    for (const layer of this.layers) {
      const mark = layer.marks.find((m) => m.uid === uidValue);
      if (mark) return { mark, layer };
    }
    return null;
  }

  // ---- changes, undo and redo -----------------------------------------------------------------------------------
  change(apply) {
    if (!this.own) return;
    this.undoStack.push(JSON.stringify({ marks: this.own.marks, comments: this.own.comments }));
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack = [];
    apply(this.own);
    this.dirty = true;
    this.refresh();
  }

  restore(from, to) {
    if (!this.own || !from.length) return;
    to.push(JSON.stringify({ marks: this.own.marks, comments: this.own.comments }));
    const state = JSON.parse(from.pop());
    this.own.marks = state.marks;
    this.own.comments = state.comments;
    if (this.selected && !this.find(this.selected)) this.selected = null;
    this.dirty = true;
    this.refresh();
  }

  undo() { this.restore(this.undoStack, this.redoStack); this.say("Undone"); }

  redo() { this.restore(this.redoStack, this.undoStack); this.say("Redone"); }

  updateUndoButtons() {
    const undo = this.bar.querySelector("#markup-undo");
    const redo = this.bar.querySelector("#markup-redo");
    if (undo) undo.disabled = !this.undoStack.length;
    if (redo) redo.disabled = !this.redoStack.length;
  }

  add(mark) {
    const full = { uid: uid(), interactionMode: "Full", creationDateTime: now(), modificationDateTime: now(),
      data: { author: this.userName }, conversation: { data: {} }, ...mark };
    this.change((layer) => layer.marks.push(full));
    this.select(full.uid);
    this.say(`${label(full)} added on page ${pagesOf(full)[0] + 1}`);
    return full;
  }

  update(uidValue, edit) {
    const found = this.find(uidValue);
    if (!found || !found.layer.editable) return;
    this.change((layer) => {
      const mark = layer.marks.find((m) => m.uid === uidValue);
      edit(mark);
      mark.modificationDateTime = now();
    });
  }

  remove(uidValue) {
    const found = this.find(uidValue);
    if (!found || !found.layer.editable) return;
    this.change((layer) => {
      layer.marks = layer.marks.filter((m) => m.uid !== uidValue);
      layer.comments = layer.comments.filter((c) => c.markUid !== uidValue);
    });
    if (this.selected === uidValue) this.selected = null;
    this.refresh();
    this.say("Annotation deleted");
  }

  recolour(uidValue, color) {
    this.update(uidValue, (mark) => {
      if (REDACTION_TYPES.has(mark.type)) return;  // redactions keep their fill; they are not decoration
      if (["RectangleAnnotation", "EllipseAnnotation", "TextAnnotation"].includes(mark.type)) mark.borderColor = color;
      else if (mark.type === "HighlightAnnotation") mark.fillColor = color;
      else mark.color = color;
    });
  }

  select(uidValue) {
    this.selected = uidValue;
    this.refresh();
  }

  // ---- pages ------------------------------------------------------------------------------------------------------
  pageCreated(view) {
    const units = this.unitSize(view.page);
    const svg = svgLayer(units.width, units.height, "markup-layer");
    svg.setAttribute("aria-label", `Annotations on page ${view.page + 1}`);
    view.overlay.appendChild(svg);
    this.pages.set(view.page, { view, svg, units });
    this.applyToolClass(svg);
    svg.addEventListener("pointerdown", (event) => this.pointerDown(event, view.page));
    this.drawPage(view.page);
  }

  pageResized(view) {
    const entry = this.pages.get(view.page);
    if (!entry) return;
    const units = this.unitSize(view.page);
    if (units.width !== entry.units.width || units.height !== entry.units.height) {
      entry.units = units;
      entry.svg.setAttribute("viewBox", `0 0 ${units.width} ${units.height}`);
      entry.svg.setAttribute("width", units.width);
      entry.svg.setAttribute("height", units.height);
      this.drawPage(view.page);
    }
  }

  pageDestroyed(view) {
    const entry = this.pages.get(view.page);
    if (entry && entry.view === view) this.pages.delete(view.page);
  }

  drawPage(page) {
    const entry = this.pages.get(page);
    if (!entry) return;
    const fragment = document.createDocumentFragment();
    for (const { mark } of this.allMarks()) {
      if (!pagesOf(mark).includes(page)) continue;
      const node = renderMark(mark, page, entry.units, { selected: mark.uid === this.selected });
      if (node) fragment.appendChild(node);
    }
    const selected = this.selected ? this.find(this.selected) : null;
    if (selected && selected.layer.editable && pagesOf(selected.mark).includes(page)
        && !TEXT_SELECTION_TYPES.has(selected.mark.type)) {
      const box = boundsOf(selected.mark, entry.units);
      if (box) {
        fragment.appendChild(svgElement("rect", { x: box.x, y: box.y, width: box.width, height: box.height,
          class: "selection-outline" }));
        const handle = svgElement("rect", { x: box.x + box.width - 4, y: box.y + box.height - 4, width: 8, height: 8,
          class: "resize-handle", "data-handle": "resize" });
        handle.setAttribute("aria-label", "Resize");
        fragment.appendChild(handle);
      }
    }
    entry.svg.replaceChildren(fragment);
  }

  printLayer(page) {
    const units = this.unitSize(page);
    const svg = svgLayer(units.width, units.height, "print-markup");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    for (const { mark } of this.allMarks()) {
      if (!pagesOf(mark).includes(page)) continue;
      const node = renderMark(mark, page, units);
      if (node) svg.appendChild(node);
    }
    return svg;
  }

  refresh() {
    for (const page of this.pages.keys()) this.drawPage(page);
    this.renderList();
    this.updateUndoButtons();
  }

  // ---- pointer drawing, moving and resizing ------------------------------------------------------------------
  point(event, page) {
    const entry = this.pages.get(page);
    const rect = entry.svg.getBoundingClientRect();
    return { x: (event.clientX - rect.left) / rect.width * entry.units.width,
      y: (event.clientY - rect.top) / rect.height * entry.units.height };
  }

  pointerDown(event, page) {
    if (!this.editable || event.button !== 0) return;
    const start = this.point(event, page);
    const entry = this.pages.get(page);
    if (this.tool === "select") {
      const handle = event.target.closest?.("[data-handle]");
      const group = event.target.closest?.("g.markup");
      if (handle && this.selected) {
        this.drag = { kind: "resize", page, start, uid: this.selected, before: JSON.stringify(this.find(this.selected).mark) };
      } else if (group) {
        const found = this.find(group.dataset.uid);
        this.select(group.dataset.uid);
        if (found && found.layer.editable && !TEXT_SELECTION_TYPES.has(found.mark.type)) {
          this.drag = { kind: "move", page, start, uid: found.mark.uid, before: JSON.stringify(found.mark) };
        }
      } else {
        this.select(null);
        return;
      }
    } else if (!TEXT_TOOLS.has(this.tool)) {
      this.drag = { kind: "draw", page, start, points: [start], preview: null };
    } else {
      return;
    }
    // the drag is followed on the window: redrawing the selection replaces the element under the pointer
    const move = (e) => this.pointerMove(e);
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.pointerUp(e);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    event.preventDefault();
  }

  pointerMove(event) {
    const drag = this.drag;
    if (!drag) return;
    const p = this.point(event, drag.page);
    const entry = this.pages.get(drag.page);
    if (drag.kind === "draw") {
      drag.points.push(p);
      drag.preview?.remove();
      const s = drag.start;
      const x = Math.min(s.x, p.x), y = Math.min(s.y, p.y), w = Math.abs(p.x - s.x), h = Math.abs(p.y - s.y);
      let node;
      if (this.tool === "ink") {
        node = svgElement("polyline", { points: drag.points.map((q) => `${q.x},${q.y}`).join(" "), class: "preview" });
      } else if (this.tool === "line" || this.tool === "arrow") {
        node = svgElement("line", { x1: s.x, y1: s.y, x2: p.x, y2: p.y, class: "preview" });
      } else if (this.tool === "ellipse") {
        node = svgElement("ellipse", { cx: x + w / 2, cy: y + h / 2, rx: w / 2, ry: h / 2, class: "preview" });
      } else {
        node = svgElement("rect", { x, y, width: w, height: h, class: "preview" });
      }
      entry.svg.appendChild(node);
      drag.preview = node;
      return;
    }
    const dx = p.x - drag.start.x, dy = p.y - drag.start.y;
    const found = this.find(drag.uid);
    if (!found) return;
    const original = JSON.parse(drag.before);
    Object.assign(found.mark, drag.kind === "move" ? moved(original, dx, dy, entry.units) : resized(original, dx, dy, entry.units));
    this.drawPage(drag.page);
  }

  pointerUp(event) {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    const end = this.point(event, drag.page);
    if (drag.kind === "draw") {
      drag.preview?.remove();
      this.finishDrawing(drag.page, drag.start, end, drag.points);
      return;
    }
    const found = this.find(drag.uid);
    if (!found) return;
    const changed = JSON.stringify(found.mark);
    if (changed === drag.before) return;
    // the live edit becomes one undoable step
    Object.assign(found.mark, JSON.parse(drag.before));
    this.update(drag.uid, (mark) => Object.assign(mark, JSON.parse(changed)));
    this.say(drag.kind === "move" ? "Annotation moved" : "Annotation resized");
  }

  finishDrawing(page, start, end, points) {
    const units = this.pages.get(page).units;
    const pageData = { width: units.width, height: units.height };
    const clamp = (q) => ({ x: round(Math.max(0, Math.min(units.width, q.x))), y: round(Math.max(0, Math.min(units.height, q.y))) });
    const s = clamp(start), e = clamp(end);
    let rect = { x: Math.min(s.x, e.x), y: Math.min(s.y, e.y), width: round(Math.abs(e.x - s.x)), height: round(Math.abs(e.y - s.y)) };
    const tiny = rect.width < 3 && rect.height < 3;
    const base = { pageNumber: page + 1, pageData };
    const color = this.color;
    const reason = this.reasonInput?.value || "";
    switch (this.tool) {
      case "rectangle":
        if (!tiny) this.add({ ...base, type: "RectangleAnnotation", rectangle: rect, borderColor: color, borderThickness: 2, opacity: 255 });
        break;
      case "ellipse":
        if (!tiny) this.add({ ...base, type: "EllipseAnnotation", rectangle: rect, borderColor: color, borderThickness: 2, opacity: 255 });
        break;
      case "line":
      case "arrow":
        if (!tiny) {
          this.add({ ...base, type: "LineAnnotation", startPoint: s, endPoint: e, color, thickness: 2, opacity: 255,
            endHeadType: this.tool === "arrow" ? "FilledTriangle" : "None" });
        }
        break;
      case "ink": {
        const clamped = points.map(clamp);
        if (clamped.length < 2) break;
        const path = `M${clamped[0].x},${clamped[0].y} ` + clamped.slice(1).map((q) => `L${q.x},${q.y}`).join(" ");
        this.add({ ...base, type: "FreehandAnnotation", path, color, thickness: 2, opacity: 255 });
        break;
      }
      case "note": {
        if (tiny) rect = { x: s.x, y: s.y, width: Math.min(160, units.width - s.x), height: Math.min(60, units.height - s.y) };
        const mark = this.add({ ...base, type: "TextAnnotation", rectangle: rect, text: "Note", fontColor: "#000000",
          fontName: "Helvetica", fontSize: 12, fillColor: "#FFFFE0", borderColor: color, borderThickness: 1, opacity: 255 });
        this.editor.querySelector("textarea")?.focus();
        return mark;
      }
      case "redact-area":
        if (!tiny) this.add({ ...base, type: "RectangleRedaction", rectangle: rect, reason, fillColor: "#000000", fontColor: "#FFFFFF" });
        break;
      default:
    }
    return null;
  }

  // ---- marks on selected text ------------------------------------------------------------------------------------
  maybeTextMark() {
    if (!this.editable || !TEXT_TOOLS.has(this.tool)) return;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    const groups = new Map();   // page -> lines
    for (const rect of range.getClientRects()) {
      if (rect.width < 0.5 || rect.height < 0.5) continue;
      for (const [page, entry] of this.pages) {
        const box = entry.view.el.getBoundingClientRect();
        const cx = rect.left + rect.width / 2, cy = rect.top + rect.height / 2;
        if (cx < box.left || cx > box.right || cy < box.top || cy > box.bottom) continue;
        const sx = entry.units.width / box.width, sy = entry.units.height / box.height;
        const line = { x: round((rect.left - box.left) * sx), y: round((rect.top - box.top) * sy),
          width: round(rect.width * sx), height: round(rect.height * sy) };
        const lines = groups.get(page) || [];
        const same = lines.find((l) => Math.abs(l.y - line.y) < line.height / 2 && line.x <= l.x + l.width + 2);
        if (same) {
          const right = Math.max(same.x + same.width, line.x + line.width);
          same.x = Math.min(same.x, line.x);
          same.width = round(right - same.x);
        } else lines.push(line);
        groups.set(page, lines);
        break;
      }
    }
    if (!groups.size) return;
    const text = selection.toString();
    const lineGroups = [...groups].sort((a, b) => a[0] - b[0]).map(([page, lines]) => ({
      pageNumber: page + 1, pageData: { ...this.pages.get(page).units }, startIndex: 0, textLength: text.length, lines }));
    const base = { pageNumber: lineGroups[0].pageNumber, startIndex: 0, textLength: text.length, selectedText: text, lineGroups };
    selection.removeAllRanges();
    if (this.tool === "highlight") this.add({ ...base, type: "HighlightAnnotation", fillColor: "#FFFF00" });
    else if (this.tool === "strike") this.add({ ...base, type: "StrikethroughAnnotation", color: this.color, thickness: 1.5 });
    else if (this.tool === "underline") {
      this.add({ ...base, type: "StrikethroughAnnotation", color: this.color, thickness: 1.5,
        data: { author: this.userName, pageturnStyle: "underline" } });
    } else this.add({ ...base, type: "TextSelectionRedaction", reason: this.reasonInput?.value || "", fillColor: "#000000" });
  }

  // ---- the side panel --------------------------------------------------------------------------------------------
  renderList() {
    const items = this.allMarks().sort((a, b) => pagesOf(a.mark)[0] - pagesOf(b.mark)[0]);
    const fragment = document.createDocumentFragment();
    for (const { mark, layer } of items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "markup-item";
      button.dataset.uid = mark.uid;
      const author = mark.data?.author || layer.owner || "Unknown";
      const page = pagesOf(mark)[0] + 1;
      button.textContent = `${label(mark)} · page ${page} · ${author}`;
      button.setAttribute("aria-label", `${label(mark)} on page ${page} by ${author}`);
      button.setAttribute("aria-current", String(mark.uid === this.selected));
      button.addEventListener("click", () => { this.select(mark.uid); this.scrollToPage(page - 1); });
      li.appendChild(button);
      fragment.appendChild(li);
    }
    this.list.replaceChildren(fragment);
    this.panel.querySelector("#markup-count").textContent = `${items.length}`;
    this.renderEditor();
  }

  renderEditor() {
    const found = this.selected ? this.find(this.selected) : null;
    this.editor.replaceChildren();
    if (!found) return;
    const { mark, layer } = found;
    const heading = document.createElement("h3");
    heading.textContent = label(mark);
    this.editor.appendChild(heading);
    const readOnly = !layer.editable;
    const field = (labelText, value, onChange, multiline = false) => {
      const wrap = document.createElement("label");
      wrap.className = "field";
      const span = document.createElement("span");
      span.textContent = labelText;
      const input = document.createElement(multiline ? "textarea" : "input");
      input.value = value || "";
      input.readOnly = readOnly;
      input.addEventListener("change", () => onChange(input.value));
      wrap.append(span, input);
      this.editor.appendChild(wrap);
      return input;
    };
    if (mark.type === "TextAnnotation") field("Text", mark.text, (v) => this.update(mark.uid, (m) => { m.text = v; }), true);
    if (REDACTION_TYPES.has(mark.type)) field("Reason", mark.reason, (v) => this.update(mark.uid, (m) => { m.reason = v; }));
    const comment = layer.comments.find((c) => c.markUid === mark.uid);
    field("Comment", comment?.text, (v) => this.change((own) => {
      const existing = own.comments.find((c) => c.markUid === mark.uid);
      if (existing) existing.text = v;
      else own.comments.push({ markUid: mark.uid, text: v, creationDateTime: now(), data: { author: this.userName } });
    }), true);
    if (!readOnly) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button";
      remove.id = "markup-delete";
      remove.textContent = "Delete annotation";
      remove.addEventListener("click", () => this.remove(mark.uid));
      this.editor.appendChild(remove);
    }
  }

  // ---- burning -----------------------------------------------------------------------------------------------------
  async burnAndDownload() {
    const base = `${this.api.base}/PCCIS/V1/ViewingSession/u${encodeURIComponent(this.api.id)}/MarkupBurner`;
    this.say("Burning annotations into a PDF…");
    try {
      const started = await this.request(base, { method: "POST", body: { marks: this.allMarks().map((x) => x.mark) } });
      let state = started;
      let delay = 250;
      while (state.state === "processing") {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 2000);
        state = await this.request(`${base}/${encodeURIComponent(started.processId)}`);
      }
      if (state.state !== "complete") throw new Error(state.errorCode || "burning failed");
      const name = (this.fileName() || "document").replace(/\.[^.]+$/, "") + "-annotated";
      const link = document.createElement("a");
      link.href = `${base}/${encodeURIComponent(started.processId)}/Document?ContentDispositionFilename=${encodeURIComponent(name)}`;
      link.download = `${name}.pdf`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      this.say("The annotated PDF is downloading");
    } catch (error) {
      this.say(`Burning failed: ${error.message}`);
    }
  }

  // ---- keyboard ------------------------------------------------------------------------------------------------------
  bindKeys() {
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.altKey) return;
      const command = event.ctrlKey || event.metaKey;
      if (command) {
        const key = event.key.toLowerCase();
        if (key === "z" && !event.shiftKey) this.undo();
        else if (key === "y" || (key === "z" && event.shiftKey)) this.redo();
        else if (key === "s") this.save();
        else return;
        event.preventDefault();
        return;
      }
      if (typingIn(event.target)) return;
      if ((event.key === "Delete" || event.key === "Backspace") && this.selected) {
        this.remove(this.selected);
        event.preventDefault();
        return;
      }
      if (event.key === "Escape" && this.tool !== "select") {
        this.setTool("select");
        return;  // Escape also closes search: not prevented
      }
      const tool = TOOLS.find(([, , key]) => key === event.key);
      if (tool) {
        this.setTool(tool[0]);
        event.preventDefault();
      }
    });
  }
}

function moved(mark, dx, dy, units) {
  const sx = (mark.pageData?.width || units.width) / units.width;
  const sy = (mark.pageData?.height || units.height) / units.height;
  const ddx = dx * sx, ddy = dy * sy;
  const out = {};
  if (mark.rectangle) out.rectangle = { ...mark.rectangle, x: round(mark.rectangle.x + ddx), y: round(mark.rectangle.y + ddy) };
  if (mark.startPoint) {
    out.startPoint = { x: round(mark.startPoint.x + ddx), y: round(mark.startPoint.y + ddy) };
    out.endPoint = { x: round(mark.endPoint.x + ddx), y: round(mark.endPoint.y + ddy) };
  }
  if (mark.points) out.points = mark.points.map((p) => ({ x: round(p.x + ddx), y: round(p.y + ddy) }));
  if (mark.path) {
    let i = 0;
    out.path = mark.path.replace(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi, (n) => String(round(Number(n) + (i++ % 2 ? ddy : ddx))));
  }
  return out;
}

function resized(mark, dx, dy, units) {
  const sx = (mark.pageData?.width || units.width) / units.width;
  const sy = (mark.pageData?.height || units.height) / units.height;
  if (mark.rectangle) {
    return { rectangle: { ...mark.rectangle, width: round(Math.max(2, mark.rectangle.width + dx * sx)),
      height: round(Math.max(2, mark.rectangle.height + dy * sy)) } };
  }
  if (mark.endPoint) return { endPoint: { x: round(mark.endPoint.x + dx * sx), y: round(mark.endPoint.y + dy * sy) } };
  return {};
}
