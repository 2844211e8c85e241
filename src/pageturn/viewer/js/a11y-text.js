// The whole document as text for assistive technology: a section per page ("Page N of M", a heading to jump
// by), its text one paragraph per line in reading order, and its links. The page images carry no text of
// their own and only the pages near the view are in the DOM, so this is what a screen reader reads: every
// page, loaded a batch at a time from the reader's page onwards, while the visible text layer (one span per
// word, for selection) is hidden from it.

const BATCH = 10;
const LINE_BREAK = /\r\n|\r|\n/g;
// what a screen reader says around a marked run (insertion and deletion roles take no name of their own)
const RUN_WORDS = { ins: ["insertion start, ", ", insertion end"], del: ["deletion start, ", ", deletion end"] };

function hidden(text) {
  const span = document.createElement("span");
  span.className = "sr-only";
  span.textContent = text;
  return span;
}

/** One line of text as a paragraph, its inserted and deleted runs (character ranges) as <ins>/<del>. */
function paragraph(text, start, end, runs) {
  const p = document.createElement("p");
  let at = start;
  for (const run of runs) {
    const from = Math.max(run.start, start);
    const to = Math.min(run.end, end);
    if (to <= from) continue;
    if (from > at) p.append(text.slice(at, from));
    const mark = document.createElement(run.kind);
    const [before, after] = RUN_WORDS[run.kind];
    mark.append(hidden(before), text.slice(from, to), hidden(after));
    p.append(mark);
    at = to;
  }
  if (at < end) p.append(text.slice(at, end));
  return p;
}  // short text requests: pages the reader scrolls to are not kept waiting

function idle() {
  return new Promise((resolve) => {
    if (window.requestIdleCallback) requestIdleCallback(() => resolve(), { timeout: 500 });
    else setTimeout(resolve, 30);
  });
}

export class AccessibleText {
  /**
   * @param {HTMLElement} root  the (visually hidden) container
   * @param {import("./text-store.js").TextStore} textStore
   * @param {(page: number) => void} onFocusPage  a link in the text got keyboard focus: show its page
   */
  constructor(root, textStore, onFocusPage, runsFor = null) {
    this.root = root;
    this.runsFor = runsFor;  // (page, entry) => inserted/deleted character ranges (comparison mode)
    this.entries = new Map();  // page -> its text entry, kept while marks may still arrive (comparison mode)
    this.textStore = textStore;
    this.onFocusPage = onFocusPage;
    this.count = 0;
    this.estimated = false;
    this.sections = [];
    this.filled = new Set();
    this.loading = false;
    this.from = 0;
    root.addEventListener("focusin", (event) => {
      const section = event.target.closest("section[data-page]");
      if (section) this.onFocusPage(Number(section.dataset.page));
    });
  }

  /** Pages known so far; more sections come as a converting document grows. */
  setCount(count, estimated = false) {
    this.count = count;
    this.estimated = estimated;
    while (this.sections.length > count) this.sections.pop().remove();
    const fragment = document.createDocumentFragment();
    for (let page = this.sections.length; page < count; page++) {
      const section = document.createElement("section");
      section.dataset.page = String(page);
      section.setAttribute("aria-labelledby", `a11y-page-${page}`);
      const heading = document.createElement("h2");
      heading.id = `a11y-page-${page}`;
      const body = document.createElement("div");
      body.className = "a11y-page-text";
      body.textContent = "Text not loaded yet.";
      section.append(heading, body);
      this.sections.push(section);
      fragment.appendChild(section);
    }
    this.root.appendChild(fragment);
    const total = `${count}${estimated ? "+" : ""}`;
    this.sections.forEach((section, page) => { section.firstChild.textContent = `Page ${page + 1} of ${total}`; });
    if (this.started) this.load();
  }

  /** Starts (or restarts from `page`) loading text in the background, the reader's page first. */
  start(page = 0) {
    this.started = true;
    this.from = page;
    this.load();
  }

  async load() {
    if (this.loading) return;
    this.loading = true;
    try {
      for (;;) {
        const pages = this.nextPages();
        if (!pages.length) break;
        const entries = await Promise.all(pages.map((page) => this.textStore.get(page).catch(() => null)));
        pages.forEach((page, i) => this.fill(page, entries[i]));
        await idle();
      }
    } finally {
      this.loading = false;
    }
  }

  /** The next batch without text: from the reader's page to the end, then from the start. */
  nextPages() {
    const order = [];
    for (let p = this.from; p < this.count; p++) order.push(p);
    for (let p = 0; p < Math.min(this.from, this.count); p++) order.push(p);
    return order.filter((p) => !this.filled.has(p)).slice(0, BATCH);
  }

  fill(page, entry) {
    const section = this.sections[page];
    if (!section) return;
    this.filled.add(page);
    const body = section.querySelector(".a11y-page-text");
    const fragment = document.createDocumentFragment();
    if (this.runsFor && entry) this.entries.set(page, entry);
    const text = entry ? entry.text : "";
    const runs = this.runsFor && entry ? this.runsFor(page, entry) : [];
    let lines = 0;
    let lineStart = 0;
    for (const br of [...text.matchAll(LINE_BREAK), { index: text.length, 0: "" }]) {
      let start = lineStart;
      let end = br.index;
      lineStart = br.index + br[0].length;
      while (start < end && /\s/.test(text[start])) start++;
      while (end > start && /\s/.test(text[end - 1])) end--;
      if (end <= start) continue;
      fragment.appendChild(paragraph(text, start, end, runs));
      lines++;
    }
    if (!lines) {
      const p = document.createElement("p");
      p.textContent = entry ? "This page has no text." : "The text of this page could not be read.";
      fragment.appendChild(p);
    }
    if (entry && entry.links.length) {
      const list = document.createElement("ul");
      list.setAttribute("aria-label", `Links on page ${page + 1}`);
      for (const link of entry.links) {
        const item = document.createElement("li");
        const a = document.createElement("a");
        a.href = link.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = link.href;
        a.tabIndex = -1;  // read and followed in a screen reader's browse mode; Tab keeps to the controls
        item.appendChild(a);
        list.appendChild(item);
      }
      fragment.appendChild(list);
    }
    body.replaceChildren(fragment);
    section.dataset.loaded = "true";
  }

  /** Marks arrived for these pages (comparison mode): their text, if shown already, is written again. */
  remark(pages) {
    for (const page of new Set(pages)) {
      if (this.entries.has(page)) this.fill(page, this.entries.get(page));
    }
  }
}
