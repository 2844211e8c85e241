// The thumbnails sidebar: small page images from Page/q/{n}/{W}x{H}, only for the slots in view.

const SLOT = 190;          // CSS px per thumbnail slot
const BOX_W = 120;
const BOX_H = 150;
const BUFFER = 3;

export class Thumbnails {
  /** @param {HTMLElement} list  scrolling container  @param {(page: number) => void} onSelect */
  constructor(list, api, onSelect) {
    this.list = list;
    this.api = api;
    this.onSelect = onSelect;
    this.count = 0;
    this.current = 0;
    this.items = new Map();
    this.sizer = document.createElement("div");
    this.sizer.className = "thumb-sizer";
    list.appendChild(this.sizer);
    this.frame = 0;
    list.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(list);
    list.addEventListener("keydown", (event) => this.onKey(event));
  }

  setCount(count) {
    this.count = count;
    this.sizer.style.height = `${count * SLOT}px`;
    for (const [page, item] of this.items) if (page >= count) { item.remove(); this.items.delete(page); }
    this.schedule();
  }

  setCurrent(page) {
    const before = this.items.get(this.current);
    before?.removeAttribute("aria-current");
    if (before && before !== document.activeElement) before.tabIndex = -1;
    this.current = page;
    const item = this.items.get(page);
    item?.setAttribute("aria-current", "page");
    // one tab stop for the list (the current page), arrows inside; a focused thumbnail keeps its stop
    if (item && !this.list.contains(document.activeElement)) item.tabIndex = 0;
    if (this.isShown()) this.reveal(page);
  }

  isShown() { return this.list.offsetParent !== null; }

  reveal(page) {
    const top = page * SLOT;
    if (top < this.list.scrollTop || top + SLOT > this.list.scrollTop + this.list.clientHeight) {
      this.list.scrollTop = top - (this.list.clientHeight - SLOT) / 2;
    }
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.update(); });
  }

  update() {
    if (!this.isShown() || !this.count) return;
    const first = Math.max(0, Math.floor(this.list.scrollTop / SLOT) - BUFFER);
    const last = Math.min(this.count - 1, Math.ceil((this.list.scrollTop + this.list.clientHeight) / SLOT) + BUFFER);
    for (const [page, item] of this.items) {
      // keep the focused thumbnail so keyboard focus is never lost
      if ((page < first || page > last) && item !== document.activeElement) { item.remove(); this.items.delete(page); }
    }
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    for (let page = first; page <= last; page++) {
      if (this.items.has(page)) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "thumb";
      button.style.top = `${page * SLOT}px`;
      button.dataset.page = String(page);
      button.setAttribute("aria-label", `Page ${page + 1}`);
      if (page === this.current) button.setAttribute("aria-current", "page");
      button.tabIndex = page === this.current ? 0 : -1;
      const frame = document.createElement("span");
      frame.className = "thumb-frame";
      const img = new Image();
      img.alt = "";
      img.loading = "lazy";
      img.decoding = "async";
      img.onload = () => frame.classList.add("loaded");
      if (this.api.encrypted) {  // fetched and decrypted, then shown from memory
        this.api.thumbnailBlob(page, BOX_W * dpr, BOX_H * dpr).then((blob) => {
          const url = URL.createObjectURL(blob);
          img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
          img.src = url;
        }, () => {});
      } else {
        img.src = this.api.thumbnailUrl(page, BOX_W * dpr, BOX_H * dpr);
      }
      frame.appendChild(img);
      const label = document.createElement("span");
      label.className = "thumb-label";
      label.textContent = String(page + 1);
      button.append(frame, label);
      button.addEventListener("click", () => this.onSelect(page));
      this.sizer.appendChild(button);
      this.items.set(page, button);
    }
  }

  onKey(event) {
    const focused = document.activeElement;
    if (!focused?.classList.contains("thumb")) return;
    const page = Number(focused.dataset.page);
    const step = { ArrowDown: 1, ArrowUp: -1, Home: -this.count, End: this.count }[event.key];
    if (!step) return;
    event.preventDefault();
    event.stopPropagation();  // Home/End move in the list here, not through the document
    const target = Math.min(this.count - 1, Math.max(0, page + step));
    focused.tabIndex = -1;
    this.reveal(target);
    this.update();
    const item = this.items.get(target);
    if (item) { item.tabIndex = 0; item.focus(); }
  }
}
