// One page on screen: its box (sized before content arrives), its content (SVG, or PNG at the scale the
// screen needs, tiled when large), and the overlay with text, links and highlights in page units.

import { buildTextLayer } from "./text-layer.js";

const TILE = 1024;                 // device px per tile side
const SINGLE_IMAGE_PIXELS = 4e6;   // above this a page is drawn from a base image plus tiles
const BASE_IMAGE_PIXELS = 1.5e6;   // the whole-page image under the tiles
const MAX_PIXELS = 36e6;           // what the server renders at most in one page

/** Scales snap to quarter-octaves so small zoom changes reuse what is already rendered (and cached). */
export function snapScale(scale) {
  return Math.pow(2, Math.ceil(Math.log2(scale) * 4 - 1e-6) / 4);
}

function isAbort(error) { return error && error.name === "AbortError"; }

function idle() {
  return new Promise((resolve) => {
    if (window.requestIdleCallback) requestIdleCallback(() => resolve(), { timeout: 250 });
    else setTimeout(resolve, 16);
  });
}

export class PageView {
  /**
   * @param {number} page  zero-based
   * @param {object} ctx   shared services: api, scheduler, textStore, render, decorations(page, entry), onError(e)
   */
  constructor(page, ctx) {
    this.page = page;
    this.ctx = ctx;
    this.abort = new AbortController();
    this.blobUrls = [];
    this.cssWidth = 0;
    this.cssHeight = 0;
    this.textEntry = null;
    this.overlayUnits = 0;      // page units across the overlay, as the search marks were placed
    this.rasterScale = 0;       // scale of the PNG content on screen
    this.tiles = new Map();     // "x,y" -> img, at this.tileScale
    this.tileScale = 0;
    this.visible = null;        // visible part of the page, CSS px relative to the page
    this.contentReady = false;
    this.rendering = false;
    this.renderAgain = false;

    const el = document.createElement("div");
    el.className = "page loading";
    el.dataset.page = String(page);
    el.setAttribute("role", "group");
    el.setAttribute("aria-label", `Page ${page + 1}`);
    this.content = document.createElement("div");
    this.content.className = "page-content";
    this.overlay = document.createElement("div");
    this.overlay.className = "page-overlay";
    this.highlightLayer = document.createElement("div");
    this.highlightLayer.className = "highlight-layer";
    this.linkLayer = document.createElement("div");
    this.linkLayer.className = "link-layer";
    this.overlay.append(this.highlightLayer, this.linkLayer);
    el.append(this.content, this.overlay);
    this.el = el;
    this.ctx.pageCreated?.(this);   // annotation mode adds its layer to the overlay
  }

  get signal() { return this.abort.signal; }

  /** Place the page; its content stretches at once and is re-rendered sharper if needed later. */
  setBox(left, top, width, height) {
    const el = this.el;
    el.style.transform = `translate(${left}px, ${top}px)`;
    if (width !== this.cssWidth || height !== this.cssHeight) {
      el.style.width = `${width}px`;
      el.style.height = `${height}px`;
      this.cssWidth = width;
      this.cssHeight = height;
      this.fitOverlay();
    }
  }

  fitOverlay() {
    const units = this.textEntry?.width || this.ctx.unitSize(this.page).width;
    const scale = units > 0 ? this.cssWidth / units : 1;
    this.overlay.style.transform = `scale(${scale})`;
    // one screen pixel in overlay units: outlines stay thin at every zoom
    this.overlay.style.setProperty("--px", String(1 / scale));
    // search marks are placed in overlay units: drawn while the page's size was still a guess (a neighbour's),
    // they move with its real size
    if (this.overlayUnits && units !== this.overlayUnits) this.decorate();
    this.overlayUnits = units;
    this.ctx.pageResized?.(this);
  }

  /** Starts loading content and text; call once after the page is in the DOM with its size. */
  start() {
    this.loadContent();
    this.loadText();
  }

  async loadContent() {
    try {
      const render = await this.ctx.render();
      if (this.signal.aborted) return;
      if (render.kind === "svg") {
        // the preview first, the SVG after it: decoding an SVG holds the main thread for 200-500 ms, and
        // the PNG arriving meanwhile would wait behind it
        if (this.ctx.pngFirst?.(this.page)) await this.previewPng();
        if (this.signal.aborted) return;
        const answer = await this.ctx.scheduler.run(this.page, this.signal,
          (signal) => this.ctx.api.pageSvg(this.page, signal));
        if (answer.svgNotAvailable) {
          this.ctx.useRaster(answer.pageAttributes);
          return this.loadContent();
        }
        await this.showSvg(answer.blob);
      } else {
        await this.renderRaster();
      }
    } catch (error) {
      if (!isAbort(error)) this.fail(error);
    }
  }

  /**
   * The first pages shown get a PNG at screen size before the SVG: a PNG decodes in ~15 ms where an SVG takes
   * 200-500 ms of the main thread. The SVG (sharp at every zoom) then replaces the PNG.
   */
  async previewPng() {
    // asked for only once the zoom is set: a preview shown before would show the page at a size it then leaves
    await this.ctx.viewReady?.();
    if (this.signal.aborted) return;
    const { attrs, scale: needed } = this.neededRasterScale();
    // the viewer page asked for page 1's preview before the scripts ran: used when at most one step less sharp
    const early = this.ctx.earlyPreviewScale?.(this.page) || 0;
    const scale = early >= needed / 1.19 ? early : needed;
    if (attrs.width * attrs.height * scale * scale > SINGLE_IMAGE_PIXELS) return;
    const svgShown = () => this.signal.aborted || this.el.dataset.content === "svg";
    try {
      const blob = await this.ctx.scheduler.run(this.page, this.signal,
        (signal) => this.ctx.api.pagePng(this.page, scale, signal));
      if (svgShown()) return;
      const url = URL.createObjectURL(blob);
      this.blobUrls.push(url);
      const img = new Image();
      img.className = "page-image";
      img.alt = "";
      img.draggable = false;
      img.src = url;
      await img.decode();
      if (svgShown()) return;
      this.content.replaceChildren(img);
      this.ready("png");
    } catch {
      // only a preview: the SVG shows the page, or says why it cannot
    }
  }

  async showSvg(blob) {
    const url = URL.createObjectURL(new Blob([blob], { type: "image/svg+xml" }));
    this.blobUrls.push(url);
    const img = new Image();
    img.className = "page-image";
    img.alt = "";
    img.draggable = false;
    img.decoding = "async";
    img.src = url;
    try {
      await img.decode();  // parsed before it joins the page, not during the frame that paints it
    } catch {
      if (!this.signal.aborted) this.fail(new Error("The page image could not be decoded"));
      return;
    }
    if (this.signal.aborted) return;
    this.content.replaceChildren(img);
    this.ready("svg");
  }

  /** Device pixels per raster pixel (at Scale=1) that this page needs now. */
  neededRasterScale() {
    const attrs = this.ctx.rasterSize(this.page);
    const dpr = window.devicePixelRatio || 1;
    const scale = snapScale((this.cssWidth * dpr) / attrs.width);
    const maxScale = Math.sqrt(MAX_PIXELS / (attrs.width * attrs.height));
    return { attrs, scale: Math.min(scale, maxScale) };
  }

  /** (Re)renders PNG content for the current size: one image, or a base image with tiles over it. */
  async renderRaster() {
    if (this.ctx.renderKind() !== "raster" || this.signal.aborted) return;
    if (this.rendering) { this.renderAgain = true; return; }  // one render at a time; the latest size wins
    this.rendering = true;
    try {
      do {
        this.renderAgain = false;
        await this.renderRasterOnce();
      } while (this.renderAgain && !this.signal.aborted);
    } finally {
      this.rendering = false;
    }
  }

  async renderRasterOnce() {
    const { attrs, scale } = this.neededRasterScale();
    const pixels = attrs.width * attrs.height * scale * scale;
    if (pixels <= SINGLE_IMAGE_PIXELS) {
      this.clearTiles();
      if (scale !== this.rasterScale) await this.showPng(scale);
      if (this.neededRasterScale().scale !== scale) this.renderAgain = true;  // zoomed while it loaded
      return;
    }
    const baseScale = snapScale(Math.sqrt(BASE_IMAGE_PIXELS / (attrs.width * attrs.height))) / Math.pow(2, 0.25);
    if (this.rasterScale < baseScale) await this.showPng(baseScale);
    if (this.tileScale !== scale) this.clearTiles();
    this.tileScale = scale;
    this.loadTiles(attrs);
  }

  async showPng(scale) {
    const blob = await this.ctx.scheduler.run(this.page, this.signal,
      (signal) => this.ctx.api.pagePng(this.page, scale, signal));
    if (this.signal.aborted) return;
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.className = "page-image";
    img.alt = "";
    img.draggable = false;
    img.src = url;
    try {
      await img.decode();
    } catch {
      URL.revokeObjectURL(url);
      throw new Error("The page image could not be decoded");
    }
    if (this.signal.aborted) { URL.revokeObjectURL(url); return; }
    const old = this.content.querySelector(".page-image");
    if (old) { old.remove(); this.revoke(old.src); }
    this.content.prepend(img);
    this.blobUrls.push(url);
    this.rasterScale = scale;
    this.el.dataset.scale = String(scale);
    this.ready("png");
  }

  /** Tiles covering the visible part of the page at the tile scale. */
  loadTiles(attrs) {
    if (!this.tileScale || !this.visible) return;
    const scale = this.tileScale;
    const fullW = Math.floor(attrs.width * scale);
    const fullH = Math.floor(attrs.height * scale);
    const toDevice = fullW / this.cssWidth;
    const margin = 256;
    const x0 = Math.max(0, Math.floor((this.visible.left * toDevice - margin) / TILE));
    const x1 = Math.min(Math.ceil(fullW / TILE) - 1, Math.floor((this.visible.right * toDevice + margin) / TILE));
    const y0 = Math.max(0, Math.floor((this.visible.top * toDevice - margin) / TILE));
    const y1 = Math.min(Math.ceil(fullH / TILE) - 1, Math.floor((this.visible.bottom * toDevice + margin) / TILE));
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const key = `${tx},${ty}`;
        if (this.tiles.has(key)) continue;
        const x = tx * TILE;
        const y = ty * TILE;
        const w = Math.min(TILE, fullW - x);
        const h = Math.min(TILE, fullH - y);
        const img = new Image();
        img.className = "page-tile";
        img.alt = "";
        img.draggable = false;
        img.style.cssText = `left:${(x / fullW) * 100}%;top:${(y / fullH) * 100}%;`
          + `width:${(w / fullW) * 100}%;height:${(h / fullH) * 100}%`;
        this.tiles.set(key, img);
        this.ctx.scheduler.run(this.page, this.signal,
          (signal) => this.ctx.api.tile(this.page, x, y, w, h, scale, signal))
          .then((blob) => {
            if (this.tiles.get(key) !== img) return;
            const url = URL.createObjectURL(blob);
            this.blobUrls.push(url);
            img.src = url;
            this.content.appendChild(img);
          })
          .catch((error) => {
            if (this.tiles.get(key) === img) this.tiles.delete(key);
            if (!isAbort(error)) this.ctx.onError(error, this.page);
          });
      }
    }
    this.el.dataset.scale = String(scale);
  }

  clearTiles() {
    for (const img of this.tiles.values()) {
      img.remove();
      if (img.src) this.revoke(img.src);
    }
    this.tiles.clear();
    this.tileScale = 0;
  }

  /** The part of the page on screen changed (scroll or zoom). */
  setVisible(rect) {
    this.visible = rect;
    if (this.tileScale && this.ctx.renderKind() === "raster") this.loadTiles(this.ctx.rasterSize(this.page));
  }

  ready(kind) {
    this.contentReady = true;
    this.el.classList.remove("loading", "failed");
    this.el.dataset.content = kind;
    this.ctx.onPageReady?.(this);
  }

  fail(error) {
    this.el.classList.remove("loading");
    this.el.classList.add("failed");
    this.ctx.onError(error, this.page);
    if (!this.el.querySelector(".page-error")) {
      const note = document.createElement("p");
      note.className = "page-error";
      note.textContent = "This page could not be shown.";
      this.el.appendChild(note);
    }
  }

  async loadText() {
    try {
      const entry = await this.ctx.textStore.get(this.page);
      if (this.signal.aborted || !entry.text) {
        if (entry && !entry.text) this.textEntry = entry;
        return;
      }
      // built between frames: a page scrolling into view must not hold up the frame that shows it
      await idle();
      if (this.signal.aborted) return;
      this.textEntry = entry;
      this.fitOverlay();
      this.overlay.style.width = `${entry.width}px`;
      this.overlay.style.height = `${entry.height}px`;
      this.overlay.prepend(buildTextLayer(entry));
      this.showLinks(entry.links);
      this.decorate();
    } catch (error) {
      // without text the page still shows; a session that ended is reported by the page requests
      if (!isAbort(error) && error.kind === "session") this.ctx.onError(error, this.page);
    }
  }

  showLinks(links) {
    const fragment = document.createDocumentFragment();
    for (const link of links) {
      const a = document.createElement("a");
      a.className = "page-link";
      a.href = link.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.title = link.href;
      a.setAttribute("aria-label", `Link: ${link.href}`);
      a.style.cssText = `left:${link.x}px;top:${link.y}px;width:${link.width}px;height:${link.height}px`;
      fragment.appendChild(a);
    }
    this.linkLayer.replaceChildren(fragment);
  }

  /** Redraws search hits and comparison changes for this page. */
  decorate() {
    const marks = this.ctx.decorations(this.page, this.textEntry);
    const fragment = document.createDocumentFragment();
    for (const mark of marks) {
      const div = document.createElement("div");
      div.className = `mark ${mark.kind}`;
      div.style.cssText = `left:${mark.x}px;top:${mark.y}px;width:${mark.width}px;height:${mark.height}px`;
      fragment.appendChild(div);
    }
    this.highlightLayer.replaceChildren(fragment);
  }

  revoke(url) {
    URL.revokeObjectURL(url);
    const i = this.blobUrls.indexOf(url);
    if (i >= 0) this.blobUrls.splice(i, 1);
  }

  /** Leaves the DOM: stops its requests and frees its images. */
  destroy() {
    this.ctx.pageDestroyed?.(this);
    this.abort.abort();
    for (const url of this.blobUrls) URL.revokeObjectURL(url);
    this.blobUrls = [];
    this.tiles.clear();
    this.el.remove();
  }
}
