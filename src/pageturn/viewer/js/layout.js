// Where every page sits in the scrolled column at a given scale. Pages whose size is not known yet take the
// size of the nearest known page before them, so a document of a single paper size never moves.

export const PAGE_GAP = 14;      // CSS px between pages
export const PADDING = 20;       // CSS px around the column
const LETTER = { width: 612, height: 792 };

export class PageLayout {
  constructor() {
    this.count = 0;
    this.scale = 1;                 // CSS px per page unit
    this.sizes = [];                // {width, height} in page units, or null when not known yet
    this.tops = new Float64Array(0);
    this.heights = new Float64Array(0);
    this.widths = new Float64Array(0);
    this.totalHeight = 0;
    this.maxWidth = 0;
  }

  setCount(count) {
    this.count = count;
    this.sizes.length = count;
    for (let i = 0; i < count; i++) if (this.sizes[i] === undefined) this.sizes[i] = null;
    this.compute();
  }

  /** @returns {boolean} whether the page changed size */
  setSize(page, width, height) {
    const old = this.sizes[page];
    if (old && old.width === width && old.height === height) return false;
    const before = this.sizeOf(page);
    this.sizes[page] = { width, height };
    return before.width !== width || before.height !== height || !old;
  }

  isKnown(page) { return Boolean(this.sizes[page]); }

  /** The size a page is laid out with: its own, else the nearest known one before it, else letter. */
  sizeOf(page) {
    for (let i = page; i >= 0; i--) if (this.sizes[i]) return this.sizes[i];
    for (let i = page + 1; i < this.count; i++) if (this.sizes[i]) return this.sizes[i];
    return LETTER;
  }

  compute() {
    const n = this.count;
    this.tops = new Float64Array(n);
    this.heights = new Float64Array(n);
    this.widths = new Float64Array(n);
    let y = PADDING;
    let maxWidth = 0;
    let fallback = this.sizes.find(Boolean) || LETTER;
    for (let i = 0; i < n; i++) {
      const size = this.sizes[i] || fallback;
      fallback = size;
      const w = Math.round(size.width * this.scale);
      const h = Math.round(size.height * this.scale);
      this.tops[i] = y;
      this.heights[i] = h;
      this.widths[i] = w;
      if (w > maxWidth) maxWidth = w;
      y += h + PAGE_GAP;
    }
    this.totalHeight = n ? y - PAGE_GAP + PADDING : 0;
    this.maxWidth = maxWidth;
  }

  contentWidth(viewportWidth) {
    return Math.max(viewportWidth, this.maxWidth + 2 * PADDING);
  }

  left(page, viewportWidth) {
    return Math.round((this.contentWidth(viewportWidth) - this.widths[page]) / 2);
  }

  /** The page at vertical offset y (the one below when y falls in a gap). */
  pageAt(y) {
    let lo = 0;
    let hi = this.count - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tops[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return y > this.tops[lo] + this.heights[lo] && lo < this.count - 1 ? lo + 1 : lo;
  }
}
