// Find in the document: reads the text of every page (a batch at a time), counts hits as they are found,
// and moves between them. Matching ignores case; a space in the query matches any run of white space.

const PAGES_PER_STEP = 20;

/** @typedef {{page: number, start: number, end: number}} Hit */

export function queryPattern(query) {
  const words = query.trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return words.length ? new RegExp(words.join("\\s+"), "giu") : null;
}

/** @returns {Hit[]} */
export function findInPage(page, text, pattern) {
  const hits = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match[0].length === 0) { pattern.lastIndex += 1; continue; }
    hits.push({ page, start: match.index, end: match.index + match[0].length });
  }
  return hits;
}

export class Search extends EventTarget {
  /** @param {import("./text-store.js").TextStore} textStore */
  constructor(textStore) {
    super();
    this.textStore = textStore;
    this.query = "";
    this.hits = [];
    this.byPage = new Map();   // page -> Hit[]
    this.index = -1;
    this.done = true;
    this.generation = 0;
  }

  /** Searches pages 0..count-1 from the page the reader is on; the first hit there becomes current. */
  async run(query, count, fromPage = 0) {
    const generation = ++this.generation;
    this.query = query;
    this.hits = [];
    this.byPage = new Map();
    this.index = -1;
    const pattern = queryPattern(query);
    this.done = !pattern;
    this.emit("change");
    if (!pattern) return;
    try {
      for (let first = 0; first < count; first += PAGES_PER_STEP) {
        const last = Math.min(count - 1, first + PAGES_PER_STEP - 1);
        await this.textStore.preload(first, last);
        if (generation !== this.generation) return;
        for (let page = first; page <= last; page++) {
          const found = findInPage(page, await this.textStore.textOf(page), pattern);
          if (!found.length) continue;
          this.byPage.set(page, found);
          this.hits.push(...found);
        }
        if (this.index < 0 && this.hits.length) {
          const after = this.hits.findIndex((hit) => hit.page >= fromPage);
          // hits before the reader's page may still come in a later batch only if fromPage is ahead
          if (after >= 0 || last >= count - 1) this.select(after >= 0 ? after : 0);
        }
        this.emit("change");
      }
    } catch (error) {
      if (generation === this.generation) this.emit("error", error);
    }
    if (generation !== this.generation) return;
    this.done = true;
    if (this.index < 0 && this.hits.length) this.select(0);
    this.emit("change");
  }

  clear() {
    this.generation += 1;
    this.query = "";
    this.hits = [];
    this.byPage = new Map();
    this.index = -1;
    this.done = true;
    this.emit("change");
  }

  select(index) {
    if (!this.hits.length) return;
    this.index = (index + this.hits.length) % this.hits.length;
    this.emit("current", this.hits[this.index]);
    this.emit("change");
  }

  next() { if (this.hits.length) this.select(this.index + 1); }

  previous() { if (this.hits.length) this.select(this.index - 1); }

  /** Hits on a page, each with whether it is the current one. */
  hitsOn(page) {
    const current = this.hits[this.index];
    return (this.byPage.get(page) || []).map((hit) => ({ ...hit, current: hit === current }));
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}
