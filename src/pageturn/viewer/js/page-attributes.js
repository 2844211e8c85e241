// Page sizes from Page/q/{n}/Attributes, asked before a page's content so its box is right when it arrives.
// Sizes are kept in page units (points): SVG attributes are in those units already; raster attributes are
// pixels at a resolution, converted here. Also decides how pages are drawn: SVG, or PNG when the server
// has no SVG for this document.

export class PageAttributes {
  /** @param {import("./api.js").PrizmApi} api  @param {import("./scheduler.js").Scheduler} scheduler */
  constructor(api, scheduler, onSize) {
    this.api = api;
    this.scheduler = scheduler;
    this.onSize = onSize;          // (page, widthUnits, heightUnits) => void
    this.raster = new Map();       // page -> {width, height, dpi} raster pixels at Scale=1
    this.units = new Map();        // page -> {width, height}
    this.requests = new Map();     // page -> Promise
    this.kind = null;              // "svg" | "raster", from the first answer
    this.lastDpi = 150;
    this.kindWaiters = [];
  }

  /** @returns {Promise<"svg"|"raster">} how this document's pages are drawn */
  renderKind() {
    if (this.kind) return Promise.resolve(this.kind);
    return new Promise((resolve) => this.kindWaiters.push(resolve));
  }

  setKind(kind) {
    if (this.kind === kind) return;
    this.kind = kind;
    for (const resolve of this.kindWaiters.splice(0)) resolve(kind);
  }

  /** Attributes of a page (once per page); `signal` only drops a request that has not started yet. */
  ensure(page, signal) {
    if (this.units.has(page)) return Promise.resolve(this.units.get(page));
    const pending = this.requests.get(page);
    // a request dropped for a page that left the screen must not fail the page that came back
    if (pending && !pending.signal?.aborted) return pending.promise;
    const promise = this.scheduler.run(page, signal, (s) => this.api.pageAttributes(page, s))
      .then((attrs) => { this.record(page, attrs); return this.units.get(page); })
      .finally(() => { if (this.requests.get(page)?.promise === promise) this.requests.delete(page); });
    this.requests.set(page, { promise, signal });
    return promise;
  }

  record(page, attrs) {
    const isSvg = String(attrs.contentType || "").split(",").includes("svg");
    if (!this.kind || (this.kind === "svg" && !isSvg)) this.setKind(isSvg ? "svg" : "raster");
    let width = Number(attrs.imageWidth) || 612;
    let height = Number(attrs.imageHeight) || 792;
    if (!isSvg) {
      const dpi = Number(attrs.imageXResolution) || 150;
      const dpiY = Number(attrs.imageYResolution) || dpi;
      this.lastDpi = dpi;
      this.raster.set(page, { width, height, dpi });
      width = (width * 72) / dpi;
      height = (height * 72) / dpiY;
    }
    this.units.set(page, { width, height });
    this.onSize(page, width, height);
  }

  /** The server said it has no SVG for this document: draw PNG from now on. */
  useRaster(pageAttributes, page) {
    if (pageAttributes && page !== undefined) this.record(page, pageAttributes);
    this.setKind("raster");
  }

  /** Raster pixel size of a page at Scale=1. */
  rasterSize(page, unitSize) {
    const known = this.raster.get(page);
    if (known) return known;
    const dpi = this.lastDpi;
    return { width: Math.round((unitSize.width * dpi) / 72), height: Math.round((unitSize.height * dpi) / 72), dpi };
  }
}
