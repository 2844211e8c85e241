// The viewer on one viewing session: reads the page's config, then wires the document view, toolbar,
// thumbnails, search, printing, download, the password prompt and (in compare mode) the changes panel.

import { AccessibleText } from "./a11y-text.js";
import { announce } from "./announcer.js";
import { PrizmApi } from "./api.js";
import { AttachmentList } from "./attachments.js";
import { changeRuns } from "./change-runs.js";
import { ComparePanel } from "./compare-panel.js";
import { DocumentView } from "./document-view.js";
import { Panels, RovingGroup, focusable, keepFocus } from "./focus.js";
import { bindKeys } from "./keyboard.js";
import { Markup } from "./markup.js";
import { MoreMenu } from "./more-menu.js";
import { Notice, describeError } from "./notice.js";
import { PageAttributes } from "./page-attributes.js";
import { installPinchZoom } from "./pinch-zoom.js";
import { clearPrint, preparePrint } from "./print.js";
import { Scheduler } from "./scheduler.js";
import { Search } from "./search.js";
import { SearchResults } from "./search-results.js";
import { installCopyHandler } from "./text-layer.js";
import { TextStore } from "./text-store.js";
import { Thumbnails } from "./thumbnails.js";
import { Toolbar } from "./toolbar.js";

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const NAME_KEY = (id) => `pageturn:name:${id}`;

function readConfig() {
  const text = $("pageturn-config")?.textContent || "";
  try {
    const config = JSON.parse(text);
    if (config && typeof config.viewingSessionId === "string" && config.viewingSessionId) return config;
  } catch { /* reported below */ }
  return null;
}

function storedName(id) {
  try { return sessionStorage.getItem(NAME_KEY(id)) || ""; } catch { return ""; }
}

/** Annotation mode: the session's viewer options, which the page's `?annotations=` setting may lower ("off",
 *  "readonly") or, when the session says nothing, turn on ("edit", "readonly"). Off by default. */
function annotationSetting(fromSession) {
  const page = new URLSearchParams(window.location.search).get("annotations");
  if (fromSession) {
    if (page === "off") return null;
    return page === "readonly" ? { ...fromSession, mode: "readonly" } : fromSession;
  }
  return page === "edit" || page === "readonly" ? { mode: page, userName: "Anonymous" } : null;
}

class Viewer {
  constructor(config) {
    this.config = config;
    this.permissions = { print: true, download: true, ...(config.permissions || {}) };
    this.api = new PrizmApi(config.viewingSessionId, config.apiBase || "", config.encryption?.key || "");
    this.notice = new Notice($("notice"));
    this.stopped = false;
    this.askedPassword = false;
    // a name the server knows (optional config.documentName) wins over the one the landing page kept
    this.fileName = (typeof config.documentName === "string" && config.documentName) || storedName(config.viewingSessionId);

    const services = this.pageServices();
    const markupConfig = annotationSetting(config.annotations);
    if (markupConfig && (markupConfig.mode === "edit" || markupConfig.mode === "readonly")) {
      this.markup = new Markup({ api: this.api, config: markupConfig, unitSize: (page) => this.view.layout.sizeOf(page),
        scrollToPage: (page) => this.view.scrollToPage(page), fileName: () => this.fileName,
        canDownload: this.permissions.download });
      services.pageCreated = (page) => this.markup.pageCreated(page);
      services.pageResized = (page) => this.markup.pageResized(page);
      services.pageDestroyed = (page) => this.markup.pageDestroyed(page);
      this.markup.load();
    }
    const view = (this.view = new DocumentView($("viewport"), services));
    this.scheduler.focus = () => view.current;
    this.toolbar = new Toolbar(view);
    this.thumbs = new Thumbnails($("thumb-list"), this.api, (page) => {
      view.scrollToPage(page);
      this.closeSidebarIfOver?.();  // on a phone the list covers the page just chosen
    });
    this.search = new Search(this.api);
    this.searchResults = new SearchResults($("search-results"), this.search);
    this.compare = config.mode === "compare" ? new ComparePanel($("compare-panel"), this.api) : null;
    this.panels = new Panels();
    this.a11yText = new AccessibleText($("a11y-text"), this.textStore, (page) => view.scrollToPage(page),
      this.compare ? (page, entry) => changeRuns(entry, this.compare.changes, page) : null);
    this.pageCount = 0;
    this.firstPageShown = false;
    this.viewReady = new Promise((resolve) => { this.markViewReady = resolve; });  // the first zoom is set

    view.addEventListener("pagechange", (event) => this.thumbs.setCurrent(event.detail.page));
    installPinchZoom(view);
    this.wireTitleAndDownload();
    this.wireSidebar();
    this.wireSearch();
    this.wirePrint();
    this.wireCompare();
    this.wireKeys();
    this.wireAccessibility();
    installCopyHandler();
  }

  /** What every page needs: the API, the request scheduler, sizes, text and highlights. */
  pageServices() {
    this.scheduler = new Scheduler(4, () => 0);
    this.attributes = new PageAttributes(this.api, this.scheduler, (page, w, h) => this.view.sizeChanged(page, w, h));
    this.textStore = new TextStore(this.api);
    return {
      api: this.api,
      scheduler: this.scheduler,
      textStore: this.textStore,
      render: async () => ({ kind: await this.attributes.renderKind() }),
      renderKind: () => this.attributes.kind,
      useRaster: (pageAttributes) => this.attributes.useRaster(pageAttributes),
      rasterSize: (page) => this.attributes.rasterSize(page, this.view.layout.sizeOf(page)),
      unitSize: (page) => this.view.layout.sizeOf(page),
      ensureSize: (page, signal) => this.attributes.ensure(page, signal),
      decorations: (page, entry) => this.decorations(page, entry),
      onError: (error) => this.report(error, false),
      onPageReady: () => this.afterFirstPage(),
      pngFirst: () => !this.firstPageShown,
      earlyPreviewScale: (page) => (page === 0 && !this.api.encrypted && Number(this.config.firstPagePreview?.scale)) || 0,
      viewReady: () => this.viewReady,
    };
  }

  decorations(page, entry) {
    const marks = [];
    // hits come with their rectangles (Text URL units), so pages scrolled to later show them at once
    const overlayWidth = entry?.width || this.view.layout.sizeOf(page).width;
    for (const hit of this.search.hitsOn(page)) {
      const k = hit.pageWidth && overlayWidth ? overlayWidth / hit.pageWidth : 1;
      for (const r of hit.rects) {
        marks.push({ x: r.x * k, y: r.y * k, width: r.width * k, height: r.height * k, kind: hit.current ? "hit current" : "hit" });
      }
    }
    if (this.compare) marks.push(...this.compare.marksOn(page));
    return marks;
  }

  // ---- opening the document ------------------------------------------------------------------------------
  async open() {
    if (this.config.error) {
      const { status, message } = this.config.error;
      // the server could not give this page a usable session: unknown (404/500) or ended (its own status)
      return this.fail({ kind: status === 404 || status === 500 ? "not-found" : "session", userMessage: message });
    }
    this.notice.loading("Opening document…");
    // page 1's size: carried by the viewer page when the server knew it, else asked beside the page count
    if (this.config.firstPageAttributes) this.attributes.record(0, this.config.firstPageAttributes);
    else this.attributes.ensure(0).catch(() => {});
    try {
      await this.followPageCount();
    } catch (error) {
      this.report(error, true);
    }
  }

  /** Document/q/Attributes until the page count is certain: pages appear as the conversion finds them. */
  async followPageCount() {
    let desired = 50;
    let firstPage = null;
    let known = this.config.documentAttributes;  // the viewer page's own copy of the first answer
    for (;;) {
      const answer = known || await this.api.documentAttributes(desired);
      known = null;
      if (this.stopped) return;
      if (answer.documentTitle) this.showTitle(answer.documentTitle);
      const count = Math.max(0, Number(answer.pageCount) | 0);
      const confidence = Number.isFinite(+answer.pageCountConfidence) ? +answer.pageCountConfidence : 100;
      if (confidence < 100 && !this.view.scroller.dataset.ready) {
        const found = count > 1 ? `${count} pages so far. ` : "";
        this.notice.loading("Converting document…", `${found}Pages appear as soon as they are ready.`);
      }
      if (count > 0) {
        this.view.setPageCount(count);
        this.pageCount = count;
        if (this.firstPageShown) this.thumbs.setCount(count);  // thumbnails wait for the first page
        this.a11yText.setCount(count, confidence < 100);
        this.toolbar.setTotal(count, confidence < 100);
        if ($("print")) $("print").disabled = confidence < 100;
        // not awaited: the count keeps being followed while the first page is being prepared
        firstPage ||= this.showFirstPage().catch((error) => this.report(error, true));
      }
      if (confidence >= 100) return firstPage;
      desired = confidence;  // answers at once with the current estimate; asked again shortly
      await sleep(1000);
    }
  }

  /** The first page's size sets the zoom, so the view is shown only once it is known: nothing jumps. */
  async showFirstPage() {
    await this.attributes.ensure(0);
    if (this.stopped) return;
    // on a phone "auto" would make body text about 6 px: the page width is the readable choice there
    this.view.setZoom(window.innerWidth < 600 ? "fit-width" : "auto");
    this.markViewReady();
    this.notice.hide();
    this.view.scroller.dataset.ready = "true";
    new AttachmentList($("attachments"), this.api).load();  // not awaited: the pages do not wait for it
    if (window.top === window) this.view.scroller.focus({ preventScroll: true });
  }

  /** Once a page is on screen: thumbnails and the text version start (they must not delay page 1). */
  afterFirstPage() {
    if (this.firstPageShown) return;
    this.firstPageShown = true;
    if (this.pageCount) this.thumbs.setCount(this.pageCount);
    this.a11yText.start(this.view.current);
  }

  // ---- errors -------------------------------------------------------------------------------------------
  /** @param {boolean} wholeDocument  the error stops the document (not just one page) */
  report(error, wholeDocument) {
    if (this.stopped || !error || error.name === "AbortError") return;
    this.afterFirstPage();  // a page that failed must not keep the thumbnails away
    const kind = error.kind;
    if (kind === "password") return this.askPassword();
    if (wholeDocument || kind === "session" || kind === "unsupported" || kind === "not-found") this.fail(error);
  }

  fail(error) {
    this.stopped = true;
    const { title, text } = describeError(error);
    const actions = [];
    if (window.top === window) {
      const home = document.createElement("a");
      home.className = "button";
      home.href = new URL("/", location.href).href;
      home.textContent = "Open another file";
      actions.push(home);
    }
    this.notice.error(title, text, actions);
    document.title = `${title} – pageturn`;
    this.toolbar.setEnabled(false);
    for (const id of ["print", "toggle-search", "zoom-in", "zoom-out", "zoom-select", "fit-width", "fit-page"]) {
      if ($(id)) $(id).disabled = true;
    }
  }

  askPassword() {
    if (this.askedPassword) return;
    this.askedPassword = true;
    this.stopped = true;
    this.notice.loading("This document is protected", "Enter its password to open it.");
    this.notice.root.querySelector(".progress").hidden = true;
    const dialog = $("password-dialog");
    const input = $("password-input");
    const errorText = $("password-error");
    const attempt = Number(new URLSearchParams(location.search).get("attempt") || 0);
    errorText.hidden = attempt === 0;
    dialog.addEventListener("cancel", (event) => event.preventDefault());  // nothing to show without it
    $("password-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const password = input.value;
      if (!password) return;
      $("password-submit").disabled = true;
      try {
        const newId = await this.api.replaceWithPassword(password);
        try {
          if (this.fileName) sessionStorage.setItem(NAME_KEY(newId), this.fileName);
        } catch { /* the name is a nicety */ }
        const next = new URL(encodeURIComponent(newId), location.href);
        next.search = `?attempt=${attempt + 1}`;
        location.replace(next.href);
      } catch (error) {
        $("password-submit").disabled = false;
        errorText.textContent = describeError(error).text;
        errorText.hidden = false;
      }
    });
    dialog.showModal();
    input.focus();
  }

  // ---- toolbar parts ------------------------------------------------------------------------------------
  wireTitleAndDownload() {
    this.showTitle(this.config.documentTitle);
    const download = $("download");
    if (this.permissions.download) {
      const base = (this.fileName || "document").replace(/\.[A-Za-z0-9]{1,8}$/, "");
      download.href = this.api.sourceFileUrl(base);
      download.setAttribute("download", "");
      download.hidden = false;
    } else {
      download.remove();
    }
  }

  /** The h1 and the tab's title: the name given, else the document's own title (PDF/Office), else "Document". */
  showTitle(documentTitle) {
    const title = this.fileName || (typeof documentTitle === "string" && documentTitle.trim()) || "Document";
    if ($("doc-title").textContent === title) return;
    $("doc-title").textContent = title;
    $("doc-title").title = title;
    if (!this.stopped) document.title = `${title} – pageturn`;
  }

  wireSidebar() {
    const button = $("toggle-sidebar");
    const sidebar = $("sidebar");
    const overlays = () => getComputedStyle(sidebar).position === "absolute";  // narrow screens: over the page
    const setOpen = (open, opener) => {
      if (open === !sidebar.hidden) return;
      sidebar.hidden = !open;
      button.setAttribute("aria-pressed", String(open));
      if (open) {
        this.thumbs.setCurrent(this.view.current);
        this.panels.opened("sidebar", opener);
      } else {
        this.panels.closed("sidebar", sidebar);
      }
    };
    this.panels.add("sidebar", { isOpen: () => !sidebar.hidden, close: () => setOpen(false) });
    this.closeSidebarIfOver = () => { if (overlays()) setOpen(false); };
    button.addEventListener("click", () => setOpen(sidebar.hidden, button));
    document.addEventListener("pointerdown", (event) => {
      if (!sidebar.hidden && overlays() && !sidebar.contains(event.target) && !button.contains(event.target)) {
        setOpen(false);
      }
    });
    setOpen(window.innerWidth >= 1000);
  }

  wireSearch() {
    const bar = $("searchbar");
    const input = $("search-input");
    const count = $("search-count");
    const toggle = $("toggle-search");
    let timer = 0;
    this.panels.add("search", { isOpen: () => !bar.hidden, close: () => this.closeSearch() });
    this.openSearch = () => {
      if (this.stopped) return;
      if (bar.hidden) this.panels.opened("search", document.activeElement);
      bar.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      input.focus();
      input.select();
    };
    this.closeSearch = () => {
      if (bar.hidden) return false;
      bar.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      input.value = "";
      this.search.clear();
      // focus goes back to where search was opened from, or to the document
      const lost = this.panels.closed("search", bar);
      if (lost && (document.activeElement === document.body || bar.contains(document.activeElement))) {
        this.view.scroller.focus({ preventScroll: true });
      }
      return true;
    };
    toggle.addEventListener("click", () => (bar.hidden ? this.openSearch() : this.closeSearch()));
    $("search-close").addEventListener("click", () => this.closeSearch());
    $("search-next").addEventListener("click", () => this.search.next());
    $("search-prev").addEventListener("click", () => this.search.previous());
    $("search-form").addEventListener("submit", (event) => event.preventDefault());
    const run = () => {
      clearTimeout(timer);
      this.search.run(input.value, this.view.current);
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, 220);
    });
    for (const [id, option] of [["search-case", "matchCase"], ["search-word", "wholeWord"]]) {
      const button = $(id);
      button.addEventListener("click", () => {
        this.search.options[option] = !this.search.options[option];
        button.setAttribute("aria-pressed", String(this.search.options[option]));
        if (input.value.trim()) run();
      });
    }
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (input.value !== this.search.query) run();  // Enter before the pause: search now
      else if (event.shiftKey) this.search.previous();
      else this.search.next();
    });
    this.search.addEventListener("change", () => {
      const { hits, done, query } = this.search;
      count.classList.toggle("none", Boolean(query.trim()) && done && hits.length === 0);
      count.textContent = this.search.summary();
      count.dataset.count = String(hits.length);
      count.dataset.done = String(done);
      this.view.redecorate();
    });
    this.search.addEventListener("current", (event) => this.showHit(event.detail));
    this.search.addEventListener("error", (event) => this.report(event.detail, false));
  }

  showHit(hit) {
    const rect = hit.rects[0];
    const units = this.view.layout.sizeOf(hit.page);
    const toUnits = hit.pageWidth ? units.width / hit.pageWidth : 1;
    this.view.scrollToPage(hit.page, rect ? { x: (rect.x + rect.width / 2) * toUnits, y: rect.y * toUnits } : undefined);
    this.view.redecorate();
  }

  wirePrint() {
    const button = $("print");
    if (!this.permissions.print) { button.remove(); return; }
    button.hidden = false;
    button.disabled = true;
    const dialog = $("print-dialog");
    const status = $("print-status");
    const bar = $("print-bar");
    const root = $("print-root");
    window.addEventListener("afterprint", () => clearPrint(root));
    this.print = async () => {
      if (this.stopped || !this.view.count || button.disabled) return;
      const count = this.view.count;
      const abort = new AbortController();
      dialog.returnValue = "";
      dialog.addEventListener("close", () => abort.abort(), { once: true });
      status.textContent = `Preparing ${count} ${count === 1 ? "page" : "pages"}…`;
      bar.style.width = "0";
      dialog.showModal();
      clearPrint(root);
      try {
        await preparePrint({
          api: this.api, count, root, signal: abort.signal,
          rasterSize: (page) => this.attributes.rasterSize(page, this.view.layout.sizeOf(page)),
          overlay: this.markup ? (page) => this.markup.printLayer(page) : undefined,
          onProgress: (done) => {
            status.textContent = `Prepared ${done} of ${count} ${count === 1 ? "page" : "pages"}`;
            bar.style.width = `${(done / count) * 100}%`;
          },
        });
      } catch (error) {
        clearPrint(root);
        if (error.name !== "AbortError") {
          status.textContent = `Printing failed: ${error.userMessage || error.message}`;
          this.report(error, false);
        } else dialog.close();
        return;
      }
      dialog.close();
      root.dataset.ready = "true";
      window.print();
    };
    button.addEventListener("click", () => this.print());
  }

  wireCompare() {
    if (!this.compare) return;
    const toggle = $("toggle-changes");
    const panel = $("compare-panel");
    toggle.hidden = false;
    const setOpen = (open, opener) => {
      if (open === !panel.hidden) return;
      panel.hidden = !open;
      toggle.setAttribute("aria-pressed", String(open));
      if (open) this.panels.opened("changes", opener);
      else this.panels.closed("changes", panel);
    };
    this.panels.add("changes", { isOpen: () => !panel.hidden, close: () => setOpen(false) });
    toggle.addEventListener("click", () => setOpen(panel.hidden, toggle));
    new RovingGroup(panel.querySelector(".change-list"), ".change-item", { orientation: "vertical" });
    $("change-next").addEventListener("click", () => this.compare.next());
    $("change-prev").addEventListener("click", () => this.compare.previous());
    this.compare.addEventListener("select", (event) => {
      const change = event.detail;
      const rect = change.rectangles[0];
      if (rect) this.view.scrollToPage(rect.page, { x: rect.x + rect.width / 2, y: rect.y });
      else this.view.scrollToPage(change.startPage);
      this.view.redecorate();
      const { index, changes, complete } = this.compare;
      const total = `${changes.length}${complete ? "" : "+"}`;
      const where = `page ${change.startPage + 1}`;
      announce(`Change ${index + 1} of ${total}: ${change.label}, ${where}${change.text ? `: ${change.text}` : ""}`);
    });
    // the screen-reader text of a page marks its inserted and deleted runs once its changes are known
    this.compare.addEventListener("changes", (event) => this.a11yText.remark(event.detail.pages));
    this.compare.load();
  }

  wireKeys() {
    const view = this.view;
    bindKeys({
      zoomIn: () => view.zoomIn(),
      zoomOut: () => view.zoomOut(),
      zoomReset: () => view.setZoom("fit-width"),
      nextPage: () => view.scrollToPage(view.current + 1),
      previousPage: () => view.scrollToPage(view.current - 1),
      firstPage: () => view.scrollToPage(0),
      lastPage: () => view.scrollToPage(view.count - 1),
      find: () => this.openSearch(),
      findNext: () => this.search.next(),
      findPrevious: () => this.search.previous(),
      escape: () => this.panels.closeLatest(),
      print: () => { if (this.print) this.print(); },  // without permission Ctrl+P does nothing
      nextChange: this.compare ? () => this.compare.next() : null,
      previousChange: this.compare ? () => this.compare.previous() : null,
    });
  }

  /** Keyboard structure (one stop per toolbar, focus kept), announcements of page and zoom changes. */
  wireAccessibility() {
    const view = this.view;
    const toolRow = $("tool-row");
    const toolbar = new RovingGroup(toolRow, "button, a[href], input, select");
    new MoreMenu($("more-actions"), $("more-menu"), this.panels);
    // a control that becomes disabled under focus (Next at the last page) hands focus to its neighbour
    keepFocus(document.body, (lost) => {
      if (!toolRow.contains(lost)) return view.scroller;
      const all = [...toolRow.querySelectorAll("button, a[href], input, select")];
      const at = all.indexOf(lost);
      const order = all.map((el, i) => [Math.abs(i - at) + (i > at ? 0.5 : 0), el]).sort((a, b) => a[0] - b[0]);
      const target = order.map(([, el]) => el).find(focusable) || view.scroller;
      if (toolRow.contains(target)) toolbar.setStop(target);
      return target;
    });
    view.addEventListener("pagechange", (event) => {
      const total = this.toolbar.total;
      if (total) announce(`Page ${event.detail.page + 1} of ${total}${this.toolbar.estimated ? "+" : ""}`, { settle: true });
    });
    let lastZoom = "";
    view.addEventListener("zoom", (event) => {
      const percent = `${Math.round(event.detail.zoom * 100)}%`;
      if (lastZoom && percent !== lastZoom) announce(`Zoom ${percent}`, { settle: true });
      lastZoom = percent;
    });
  }
}

const config = readConfig();
if (config) {
  const viewer = new Viewer(config);
  window.pageturnViewer = viewer;  // for embedding pages and tests that want to look inside
  viewer.open();
} else {
  new Notice($("notice")).error("The viewer is not set up",
    "This page was opened without a viewing session. Open a document from the start page.");
}
