// Comparison mode: the list of changes from /v2/viewingSessions/{id}/revisionData (read in chunks while the
// comparison runs); choosing a change scrolls to it and highlights its rectangles; "n"/"p" step through them.

export const CHANGE_LABELS = {
  contentInserted: "Inserted",
  contentDeleted: "Deleted",
  propertyChanged: "Formatting changed",
  paragraphNumberChanged: "Numbering changed",
  paragraphPropertyChanged: "Paragraph formatting changed",
  tablePropertyChanged: "Table formatting changed",
  sectionPropertyChanged: "Section formatting changed",
  styleDefinitionChanged: "Style changed",
  contentMovedFrom: "Moved from here",
  contentMovedTo: "Moved here",
  tableCellInserted: "Table cell inserted",
  tableCellDeleted: "Table cell deleted",
  tableCellsMerged: "Table cells merged",
};

const TEXT_ELEMENT = { contentInserted: "ins", contentMovedTo: "ins", contentDeleted: "del", contentMovedFrom: "del" };

/** A change in one shape, whether its extras come at the top level or under `extensions`. */
export function normalizeChange(raw) {
  const extra = raw.extensions && typeof raw.extensions === "object" ? raw.extensions : {};
  const rectangles = (Array.isArray(raw.rectangles) ? raw.rectangles : Array.isArray(extra.rectangles)
    ? extra.rectangles : []).filter((r) => r && Number.isFinite(+r.pageIndex));
  const endPage = Number.isFinite(+raw.endPageIndex) ? +raw.endPageIndex : 0;
  const start = raw.startPageIndex ?? extra.startPageIndex;
  return {
    id: raw.id,
    type: String(raw.type || "change"),
    label: CHANGE_LABELS[raw.type] || String(raw.type || "Change"),
    text: String(raw.text ?? extra.text ?? ""),
    startPage: Number.isFinite(+start) && start !== null ? +start : (rectangles[0] ? +rectangles[0].pageIndex : endPage),
    endPage,
    rectangles: rectangles.map((r) => ({ page: +r.pageIndex, x: +r.x, y: +r.y, width: +r.width, height: +r.height })),
  };
}

export class ComparePanel extends EventTarget {
  /** @param {HTMLElement} panel  @param {import("./api.js").PrizmApi} api */
  constructor(panel, api) {
    super();
    this.panel = panel;
    this.api = api;
    this.changes = [];
    this.index = -1;
    this.complete = false;
    this.list = panel.querySelector(".change-list");
    this.status = panel.querySelector(".change-status");
    panel.hidden = false;
  }

  async load(signal) {
    let token;
    this.setStatus("Looking for changes…");
    try {
      for (;;) {
        const answer = await this.api.revisionData(token, signal);
        const added = (answer.changes || []).map((raw) => this.add(normalizeChange(raw)));
        const pages = added.flatMap((change) => change.rectangles.map((r) => r.page));
        if (pages.length) this.dispatchEvent(new CustomEvent("changes", { detail: { pages } }));
        token = answer.continueToken;
        if (!token) break;
        const wait = Number(answer.continueAfter ?? 500);
        await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 100), 10000)));
      }
      this.complete = true;
      const n = this.changes.length;
      this.setStatus(n === 0 ? "No changes found" : `${n} ${n === 1 ? "change" : "changes"}`);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.setStatus(`Changes could not be listed: ${error.userMessage || error.message}`);
      this.dispatchEvent(new CustomEvent("error", { detail: error }));
    }
  }

  setStatus(text) { this.status.textContent = text; }

  add(change) {
    const index = this.changes.length;
    this.changes.push(change);
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `change-item change-${change.type}`;
    const kind = document.createElement("span");
    kind.className = "change-kind";
    kind.textContent = change.label;
    const page = document.createElement("span");
    page.className = "change-page";
    const short = document.createElement("span");
    short.setAttribute("aria-hidden", "true");
    short.textContent = `p. ${change.startPage + 1}`;
    const spoken = document.createElement("span");
    spoken.className = "sr-only";
    spoken.textContent = `, page ${change.startPage + 1}${change.text ? ": " : ""}`;
    page.append(short, spoken);
    // inserted and deleted text keep their meaning for assistive technology, not only their colour
    const text = document.createElement(TEXT_ELEMENT[change.type] || "span");
    text.className = "change-text";
    text.textContent = change.text;
    button.append(kind, page, text);
    button.addEventListener("click", () => this.select(index));
    item.appendChild(button);
    this.list.appendChild(item);
    if (!this.complete) this.setStatus(`${this.changes.length} changes so far…`);
    return change;
  }

  select(index) {
    if (!this.changes.length) return;
    this.index = (index + this.changes.length) % this.changes.length;
    const buttons = this.list.querySelectorAll(".change-item");
    buttons.forEach((button, i) => button.setAttribute("aria-current", String(i === this.index)));
    buttons[this.index]?.scrollIntoView({ block: "nearest" });
    this.dispatchEvent(new CustomEvent("select", { detail: this.changes[this.index] }));
  }

  next() { this.select(this.index + 1); }

  previous() { this.select(this.index < 0 ? -1 : this.index - 1); }

  /** Rectangles of the chosen change on a page, in page units. */
  marksOn(page) {
    const change = this.changes[this.index];
    if (!change) return [];
    return change.rectangles.filter((r) => r.page === page)
      .map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height, kind: `change ${change.type}` }));
  }
}
