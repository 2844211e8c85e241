// Find in the document through the server's search tasks (POST /v2/viewingSessions/{id}/searchTasks): the
// server reads the text and matches it; the viewer reads the hits page by page while the rest of the document
// is still being searched, and draws each hit from its lineRectangles (page units, as the Text URL's boxes).
// A new query abandons the old task and deletes it on the server (DELETE), so no work is left running.
// Results of a session with pageContentEncryption are requested with an iv and decrypted (api.contentAt).
//
// The query is plain text: it is escaped into a regular expression, a space matches any run of white space,
// "whole words" adds word boundaries and "match case" makes the term case-sensitive.

import { ApiError } from "./api.js";

/**
 * @typedef {{x: number, y: number, width: number, height: number}} Rect
 * @typedef {{page: number, start: number, end: number, rects: Rect[], pageWidth: number, text: string,
 *            context: string, at: number}} Hit
 */

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** The regular expression (source) a query searches for, or null for an empty query. */
export function queryPattern(query, { wholeWord = false } = {}) {
  const words = query.trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return null;
  const source = words.join("\\s+");
  // look-arounds rather than \b, so a query that starts or ends with punctuation still matches whole
  return wholeWord ? `(?<!\\w)${source}(?!\\w)` : source;
}

export class Search extends EventTarget {
  /** @param {import("./api.js").PrizmApi} api */
  constructor(api) {
    super();
    this.api = api;
    this.options = { wholeWord: false, matchCase: false };
    this.query = "";
    /** @type {Hit[]} */
    this.hits = [];
    this.byPage = new Map();   // page -> Hit[]
    this.index = -1;
    this.done = true;
    this.taskId = null;
    this.abort = null;
    this.generation = 0;
  }

  taskUrl(suffix = "") {
    const id = encodeURIComponent(this.api.id);
    return `${this.api.base}/v2/viewingSessions/${id}/searchTasks${suffix}`;
  }

  /** Searches the document; the first hit on or after `fromPage` becomes current as soon as it is known. */
  async run(query, fromPage = 0) {
    const generation = ++this.generation;
    this.forgetTask();
    this.query = query;
    this.hits = [];
    this.byPage = new Map();
    this.index = -1;
    const pattern = queryPattern(query, this.options);
    this.done = !pattern;
    this.emit("change");
    if (!pattern) return;
    const abort = (this.abort = new AbortController());
    const signal = abort.signal;
    try {
      const task = await this.api.json(this.taskUrl(), {
        signal, method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ input: { searchTerms: [
          { type: "simple", pattern, caseSensitive: this.options.matchCase, termId: "0", contextPadding: 30 },
        ] } }),
      });
      if (generation !== this.generation) { this.deleteTask(task.processId); return; }
      this.taskId = task.processId;
      let token = "";
      for (;;) {
        const query = new URLSearchParams({ limit: "500" });
        if (token) query.set("continueToken", token);
        const url = this.taskUrl(`/${encodeURIComponent(this.taskId)}/results?${query}`);
        // hits carry page text: an encrypted session's come encrypted and are opened like its pages
        const body = await (await this.api.contentAt(url, { signal, type: "application/json" })).json();
        if (generation !== this.generation) return;
        this.add(Array.isArray(body.results) ? body.results : [], fromPage);
        if (body.errorCode) throw new ApiError({ status: 200, errorCode: body.errorCode, details: body.errorDetails });
        token = body.continueToken || "";
        if (!token) break;
        if (body.continueAfter > 0) await sleep(Math.min(5000, body.continueAfter), signal);
        if (generation !== this.generation) return;
      }
    } catch (error) {
      if (generation === this.generation && error.name !== "AbortError") this.emit("error", error);
    }
    if (generation !== this.generation) return;
    this.taskId = null;  // finished: it expires on the server by itself
    this.done = true;
    if (this.index < 0 && this.hits.length) this.select(0);
    this.emit("change");
  }

  /** Takes in a page of results (document order) and makes the first hit at or after `fromPage` current. */
  add(results, fromPage) {
    for (const item of results) {
      const hit = {
        page: item.pageIndex, start: item.startIndex, end: item.startIndex + String(item.text || "").length,
        rects: Array.isArray(item.lineRectangles) ? item.lineRectangles : [],
        pageWidth: item.pageData?.width || 0, text: String(item.text || ""),
        context: String(item.context || ""), at: Number(item.startIndexInContext) || 0,
      };
      this.hits.push(hit);
      const list = this.byPage.get(hit.page) || [];
      list.push(hit);
      this.byPage.set(hit.page, list);
    }
    if (this.index < 0 && results.length) {
      const after = this.hits.findIndex((hit) => hit.page >= fromPage);
      if (after >= 0) this.select(after);
    }
    this.emit("change");
  }

  /** Stops following the current task and deletes it on the server (not awaited). */
  forgetTask() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    if (this.taskId) this.deleteTask(this.taskId);
    this.taskId = null;
  }

  deleteTask(id) {
    this.api.request(this.taskUrl(`/${encodeURIComponent(id)}`), { method: "DELETE" }).catch(() => {});
  }

  clear() {
    this.generation += 1;
    this.forgetTask();
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

  /** What the count shows (and screen readers hear). */
  summary() {
    const n = this.hits.length;
    if (!this.query.trim()) return "";
    if (!this.done) return n ? `${n} ${n === 1 ? "match" : "matches"} so far…` : "Searching…";
    if (!n) return "No matches";
    return this.index >= 0 ? `${this.index + 1} of ${n}` : `${n} matches`;
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}
