// Page text from Document/q/{a}-{b}/Text: asked in ranges (pages wanted at the same moment share one
// request), glyph rectangles kept for the most recent pages only, plain text kept for every page (search).

const BATCH_PAGES = 20;
const KEPT_PAGES = 60;
const RETRIES = 30;
const SAFE_LINK = /^(https?:|mailto:)/i;

/**
 * @typedef {{x: number, y: number, width: number, height: number, href: string}} PageLink
 * @typedef {{page: number, text: string, width: number, height: number, rects: Float32Array,
 *            links: PageLink[], failed: boolean}} PageText
 */

export class TextStore {
  constructor(api) {
    this.api = api;
    this.entries = new Map();     // page -> PageText (most recently used last)
    this.strings = new Map();     // page -> text
    this.waiting = new Map();     // page -> [{resolve, reject}]
    this.inFlight = new Set();    // pages a request is out for
    this.flushTimer = 0;
  }

  /** @returns {Promise<PageText>} */
  get(page) {
    const entry = this.entries.get(page);
    if (entry) {
      this.entries.delete(page);
      this.entries.set(page, entry);
      return Promise.resolve(entry);
    }
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(page) || [];
      list.push({ resolve, reject });
      this.waiting.set(page, list);
      if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 0);
    });
  }

  /** Plain text of a page, for search. */
  async textOf(page) {
    if (this.strings.has(page)) return this.strings.get(page);
    return (await this.get(page)).text;
  }

  hasText(page) { return this.strings.has(page); }

  /** Loads the text of pages first..last in one request per batch (used by search). */
  async preload(first, last) {
    const wanted = [];
    for (let p = first; p <= last; p++) if (!this.strings.has(p)) wanted.push(p);
    await Promise.all(wanted.map((p) => this.get(p)));
  }

  flush() {
    this.flushTimer = 0;
    const pages = [...this.waiting.keys()].filter((p) => !this.inFlight.has(p)).sort((a, b) => a - b);
    for (const p of pages) this.inFlight.add(p);
    let start = 0;
    for (let i = 1; i <= pages.length; i++) {
      const breaks = i === pages.length || pages[i] !== pages[i - 1] + 1 || i - start >= BATCH_PAGES;
      if (breaks) {
        this.fetchRange(pages[start], pages[i - 1], 0);
        start = i;
      }
    }
  }

  async fetchRange(first, last, attempt) {
    let answered;
    try {
      answered = await this.api.text(first, last);
    } catch (error) {
      for (let p = first; p <= last; p++) this.settle(p, null, error);
      return;
    }
    const missing = [];
    const byNumber = new Map(answered.map((item) => [item.number, item]));
    for (let p = first; p <= last; p++) {
      const item = byNumber.get(p);
      if (item) this.settle(p, this.store(p, item));
      else missing.push(p);
    }
    if (!missing.length) return;
    // text not extracted yet: ask again a little later, as the API describes
    if (attempt >= RETRIES) {
      for (const p of missing) this.settle(p, this.store(p, { number: p, text: "", errorCode: 1 }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(300 * (attempt + 1), 2000)));
    this.fetchRange(missing[0], missing[missing.length - 1], attempt + 1);
  }

  settle(page, entry, error) {
    const list = this.waiting.get(page) || [];
    this.waiting.delete(page);
    this.inFlight.delete(page);
    for (const waiter of list) {
      if (error) waiter.reject(error); else waiter.resolve(entry);
    }
  }

  store(page, item) {
    const entry = parsePageText(page, item);
    this.strings.set(page, entry.text);
    this.entries.set(page, entry);
    while (this.entries.size > KEPT_PAGES) this.entries.delete(this.entries.keys().next().value);
    return entry;
  }
}

/** @returns {PageText} */
export function parsePageText(page, item) {
  const text = typeof item.text === "string" ? item.text : "";
  const source = Array.isArray(item.rectangles) ? item.rectangles : [];
  // the server gives one rectangle per Unicode code point; JS strings count UTF-16 units, so a character
  // outside the BMP (emoji, rare CJK) spans two units: its low half gets a zero-width box at its right edge
  const rects = new Float32Array(text.length * 4);
  let unit = 0;
  let point = 0;
  for (const ch of text) {
    const r = source[point++];
    if (Array.isArray(r) && r.length >= 4) {
      rects.set([r[0], r[1], r[2], r[3]], unit * 4);
      if (ch.length === 2) rects.set([r[0] + r[2], r[1], 0, r[3]], (unit + 1) * 4);
    }
    unit += ch.length;
  }
  const links = [];
  for (const mark of Array.isArray(item.markup) ? item.markup : []) {
    const props = mark && mark.properties;
    const rect = props && props.rectangle;
    if (!rect || typeof props.href !== "string") continue;
    if (mark.markType && mark.markType !== "DocumentHyperlink") continue;
    if (!SAFE_LINK.test(props.href.trim())) continue;  // never javascript: or data: from a document
    links.push({ x: +rect.x, y: +rect.y, width: +rect.width, height: +rect.height, href: props.href.trim() });
  }
  return {
    page,
    text,
    width: Number(item.width) || 0,
    height: Number(item.height) || 0,
    rects,
    links,
    failed: Boolean(item.errorCode),
  };
}
