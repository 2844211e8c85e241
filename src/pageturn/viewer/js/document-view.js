// The scrolled column of pages: only the pages near the viewport exist in the DOM; zoom keeps the point
// under the pointer (or the top of the view) still; size changes above the view never move what is read.

import { PageLayout, PADDING, PAGE_GAP } from "./layout.js";
import { PageView } from "./page-view.js";

export const ZOOM_STEPS = [0.1, 0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8];
export const MIN_ZOOM = ZOOM_STEPS[0];
export const MAX_ZOOM = ZOOM_STEPS[ZOOM_STEPS.length - 1];
const CSS_PX_PER_POINT = 96 / 72;
const MAX_DOM_PAGES = 14;          // whatever the zoom, at most this many pages are in the DOM
const AUTO_MAX_ZOOM = 1.25;        // "auto" is fit-width, but not larger than this

export class DocumentView extends EventTarget {
  /**
   * @param {HTMLElement} scroller  the scrolling element
   * @param {object} ctx  services shared with pages (see PageView) plus ensureSize(page, signal)
   */
  constructor(scroller, ctx) {
    super();
    this.scroller = scroller;
    this.ctx = ctx;
    this.layout = new PageLayout();
    this.pagesEl = document.createElement("div");
    this.pagesEl.className = "pages";
    scroller.appendChild(this.pagesEl);
    this.views = new Map();        // page -> PageView
    this.zoom = 1;
    this.zoomMode = "auto";        // "auto" | "fit-width" | "fit-page" | "custom"
    this.current = 0;
    this.frame = 0;
    this.sizesFrame = 0;
    this.rerenderTimer = 0;
    this.anchorAfterLayout = null;

    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    scroller.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    new ResizeObserver(() => this.onResize()).observe(scroller);
  }

  get count() { return this.layout.count; }

  /** Pages known so far; a progressive document grows (or is corrected) as its conversion runs. */
  setPageCount(count) {
    if (count === this.layout.count) return;
    const anchor = this.anchor();
    this.layout.setCount(count);
    for (const [page, view] of this.views) {
      if (page >= count) { view.destroy(); this.views.delete(page); }
    }
    this.applyLayout(anchor);
    this.dispatchEvent(new CustomEvent("pagecount", { detail: { count } }));
  }

  /** A page's real size arrived: lay out again, keeping what the reader sees in place. */
  sizeChanged(page, width, height) {
    if (!this.layout.setSize(page, width, height)) return;
    if (this.sizesFrame) return;
    // sizes arriving together are laid out once; the zoom stays (fit modes are worked out when chosen)
    this.sizesFrame = requestAnimationFrame(() => this.flushSizes());
  }

  /** Lays out sizes that arrived since the last frame, now. */
  flushSizes() {
    if (!this.sizesFrame) return;
    cancelAnimationFrame(this.sizesFrame);
    this.sizesFrame = 0;
    this.applyLayout(this.anchor());
  }

  // ---- zoom ---------------------------------------------------------------------------------------------
  fitZoom(mode) {
    const size = this.layout.sizeOf(this.current);
    const width = this.scroller.clientWidth - 2 * PADDING;
    const height = this.scroller.clientHeight - 2 * PADDING;
    const fitWidth = width / (size.width * CSS_PX_PER_POINT);
    let zoom = fitWidth;
    if (mode === "fit-page") zoom = Math.min(fitWidth, height / (size.height * CSS_PX_PER_POINT));
    if (mode === "auto") zoom = Math.min(fitWidth, AUTO_MAX_ZOOM);
    return clamp(zoom, MIN_ZOOM, MAX_ZOOM);
  }

  /**
   * @param {number|"auto"|"fit-width"|"fit-page"} target
   * @param {{x: number, y: number}} [at] viewport point that stays still (default: the top centre)
   */
  setZoom(target, at) {
    let zoom;
    if (typeof target === "string") {
      this.zoomMode = target;
      zoom = this.fitZoom(target);
    } else {
      this.zoomMode = "custom";
      zoom = clamp(target, MIN_ZOOM, MAX_ZOOM);
    }
    const anchor = this.anchor(at);
    this.zoom = zoom;
    this.layout.scale = zoom * CSS_PX_PER_POINT;
    this.applyLayout(anchor);
    if (target === "fit-page") this.scrollToPage(this.current);
    this.dispatchEvent(new CustomEvent("zoom", { detail: { zoom, mode: this.zoomMode } }));
    clearTimeout(this.rerenderTimer);
    this.rerenderTimer = setTimeout(() => this.rerender(), 180);
  }

  zoomIn() {
    const next = ZOOM_STEPS.find((step) => step > this.zoom * 1.01) ?? MAX_ZOOM;
    this.setZoom(next);
  }

  zoomOut() {
    const lower = ZOOM_STEPS.filter((step) => step < this.zoom * 0.99);
    this.setZoom(lower.length ? lower[lower.length - 1] : MIN_ZOOM);
  }

  onWheel(event) {
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();  // ctrl+wheel zooms the document, not the page around it
    const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    const factor = Math.exp(-event.deltaY * lines * 0.002);
    const rect = this.scroller.getBoundingClientRect();
    this.setZoom(this.zoom * factor, { x: event.clientX - rect.left, y: event.clientY - rect.top });
  }

  onResize() {
    const anchor = this.anchor();
    if (this.zoomMode !== "custom") {
      this.zoom = this.fitZoom(this.zoomMode);
      this.layout.scale = this.zoom * CSS_PX_PER_POINT;
      this.dispatchEvent(new CustomEvent("zoom", { detail: { zoom: this.zoom, mode: this.zoomMode } }));
    }
    this.applyLayout(anchor);
    clearTimeout(this.rerenderTimer);
    this.rerenderTimer = setTimeout(() => this.rerender(), 180);
  }

  /** Raster pages re-render at the new size once zooming pauses (SVG is sharp at every size). */
  rerender() {
    for (const view of this.views.values()) {
      if (view.contentReady) view.renderRaster().catch((error) => { if (error.name !== "AbortError") view.fail(error); });
    }
  }

  // ---- positions ----------------------------------------------------------------------------------------
  /** Where the reader is: a page and the fraction into it under a viewport point. */
  anchor(at) {
    const layout = this.layout;
    if (!layout.count) return null;
    const x = at ? at.x : this.scroller.clientWidth / 2;
    const y = at ? at.y : 0;
    const docY = this.scroller.scrollTop + y;
    const page = layout.pageAt(docY);
    const fy = (docY - layout.tops[page]) / (layout.heights[page] || 1);
    const left = layout.left(page, this.scroller.clientWidth);
    const fx = (this.scroller.scrollLeft + x - left) / (layout.widths[page] || 1);
    return { page, fx, fy, x, y };
  }

  applyLayout(anchor) {
    const layout = this.layout;
    layout.scale = this.zoom * CSS_PX_PER_POINT;
    layout.compute();
    const width = layout.contentWidth(this.scroller.clientWidth);
    this.pagesEl.style.width = `${width}px`;
    this.pagesEl.style.height = `${layout.totalHeight}px`;
    if (anchor && anchor.page < layout.count) {
      const p = anchor.page;
      const top = layout.tops[p] + anchor.fy * layout.heights[p] - anchor.y;
      const left = layout.left(p, this.scroller.clientWidth) + anchor.fx * layout.widths[p] - anchor.x;
      this.scroller.scrollTop = Math.max(0, top);
      this.scroller.scrollLeft = Math.max(0, left);
    }
    this.update();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.update(); });
  }

  /** Puts the pages near the viewport in the DOM (and only those), and works out the current page. */
  update() {
    const layout = this.layout;
    const count = layout.count;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight;
    const viewWidth = this.scroller.clientWidth;
    if (!count) return;
    this.updateCurrent(top, height);
    let first = layout.pageAt(top - height * 0.5);
    let last = layout.pageAt(top + height * 1.5);
    if (last - first + 1 > MAX_DOM_PAGES) {
      const visibleFirst = layout.pageAt(top);
      first = Math.max(0, Math.min(visibleFirst - 1, count - MAX_DOM_PAGES));
      last = Math.min(count - 1, first + MAX_DOM_PAGES - 1);
    }
    for (const [page, view] of this.views) {
      if (page < first || page > last) { view.destroy(); this.views.delete(page); }
    }
    const left = this.scroller.scrollLeft;
    for (let page = first; page <= last; page++) {
      let view = this.views.get(page);
      const created = !view;
      if (created) {
        view = new PageView(page, this.ctx);
        this.views.set(page, view);
      }
      const x = layout.left(page, viewWidth);
      view.setBox(x, layout.tops[page], layout.widths[page], layout.heights[page]);
      view.setVisible({
        left: left - x, right: left + viewWidth - x,
        top: top - layout.tops[page], bottom: top + height - layout.tops[page],
      });
      if (created) {
        this.pagesEl.appendChild(view.el);
        this.startPage(view);
      }
    }
  }

  /** A page's content starts once its size is known, so nothing moves when it arrives. */
  startPage(view) {
    this.ctx.ensureSize(view.page, view.signal)
      .then(() => {
        this.flushSizes();  // the box has its real size before content is asked for at that size
        if (!view.signal.aborted) view.start();
      })
      .catch((error) => { if (error.name !== "AbortError") view.fail(error); });
  }

  updateCurrent(top, height) {
    const layout = this.layout;
    let current;
    const atBottom = top > 0 && top + height >= layout.totalHeight - 2;
    if (atBottom) {
      current = layout.count - 1;
    } else {
      // the page showing the most of itself; the first of equals
      const first = layout.pageAt(top);
      const last = layout.pageAt(top + height);
      let best = -1;
      for (let p = first; p <= last; p++) {
        const visible = Math.min(top + height, layout.tops[p] + layout.heights[p]) - Math.max(top, layout.tops[p]);
        if (visible > best + 0.5) { best = visible; current = p; }
      }
    }
    if (current !== this.current) {
      this.current = current;
      this.dispatchEvent(new CustomEvent("pagechange", { detail: { page: current } }));
    }
  }

  /** Scrolls so that a page (and optionally a point on it, in page units) is in view. */
  scrollToPage(page, point) {
    const layout = this.layout;
    if (!layout.count) return;
    page = clamp(Math.round(page), 0, layout.count - 1);
    let top = layout.tops[page] - PAGE_GAP;
    if (point) {
      const units = this.ctx.unitSize(page);
      const scale = layout.heights[page] / units.height;
      top = layout.tops[page] + point.y * scale - this.scroller.clientHeight / 3;
      const left = layout.left(page, this.scroller.clientWidth) + point.x * scale - this.scroller.clientWidth / 2;
      this.scroller.scrollLeft = Math.max(0, left);
    }
    this.scroller.scrollTop = Math.max(0, top);
    this.update();
  }

  /** Redraws highlights on the pages in the DOM. */
  redecorate() {
    for (const view of this.views.values()) view.decorate();
  }
}

function clamp(value, min, max) { return Math.min(max, Math.max(min, value)); }
