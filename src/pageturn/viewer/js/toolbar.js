// The toolbar's page and zoom controls, kept in step with the document view.

import { announce } from "./announcer.js";

const ZOOM_PRESETS = new Set(["auto", "fit-width", "fit-page", "0.5", "0.75", "1", "1.25", "1.5", "2", "3", "4"]);

export class Toolbar {
  /** @param {import("./document-view.js").DocumentView} view */
  constructor(view) {
    this.view = view;
    this.total = 0;
    this.estimated = false;
    const $ = (id) => document.getElementById(id);
    this.pageInput = $("page-input");
    this.pageTotal = $("page-total");
    this.first = $("first-page");
    this.prev = $("prev-page");
    this.next = $("next-page");
    this.last = $("last-page");
    this.zoomSelect = $("zoom-select");
    this.zoomCustom = $("zoom-custom");
    this.fitWidth = $("fit-width");
    this.fitPage = $("fit-page");

    this.first.addEventListener("click", () => view.scrollToPage(0));
    this.prev.addEventListener("click", () => view.scrollToPage(view.current - 1));
    this.next.addEventListener("click", () => view.scrollToPage(view.current + 1));
    this.last.addEventListener("click", () => view.scrollToPage(view.count - 1));
    $("page-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.goToTyped();
    });
    this.pageInput.addEventListener("focus", () => this.pageInput.select());
    this.pageInput.addEventListener("blur", () => { this.showError(""); this.showPage(view.current); });
    this.pageInput.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();  // Escape here undoes the typing; it does not also close a panel
      this.showError("");
      this.showPage(view.current);
      view.scroller.focus({ preventScroll: true });
    });
    $("zoom-in").addEventListener("click", () => view.zoomIn());
    $("zoom-out").addEventListener("click", () => view.zoomOut());
    this.fitWidth.addEventListener("click", () => view.setZoom("fit-width"));
    this.fitPage.addEventListener("click", () => view.setZoom("fit-page"));
    this.zoomSelect.addEventListener("change", () => {
      const value = this.zoomSelect.value;
      if (value === "custom") return;
      view.setZoom(/^[a-z-]+$/.test(value) ? value : Number(value));
    });

    view.addEventListener("pagechange", (event) => this.showPage(event.detail.page));
    view.addEventListener("zoom", (event) => this.showZoom(event.detail.zoom, event.detail.mode));
    this.setEnabled(false);
  }

  goToTyped() {
    const value = this.pageInput.value.trim();
    const typed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!this.total) return;
    if (!(typed >= 1 && typed <= this.total)) {
      // say what was wrong and stay in the box, so the number can be corrected
      const pages = `${this.total}${this.estimated ? " or more" : ""} ${this.total === 1 ? "page" : "pages"}`;
      this.showError(value ? `There is no page “${value}”: this document has ${pages}.` : `Type a page number from 1 to ${this.total}.`);
      this.pageInput.select();
      return;
    }
    this.showError("");
    this.view.scrollToPage(typed - 1);
    this.view.scroller.focus({ preventScroll: true });
    this.showPage(this.view.current);
  }

  showError(text) {
    const error = document.getElementById("page-error");
    if (error) error.textContent = text;
    if (text) this.pageInput.setAttribute("aria-invalid", "true");
    else this.pageInput.removeAttribute("aria-invalid");
  }

  setEnabled(enabled) {
    for (const control of [this.first, this.prev, this.next, this.last, this.pageInput]) control.disabled = !enabled;
  }

  /** Pages known so far; while the count is an estimate it reads "/ 12+" (more may come). */
  setTotal(count, estimated) {
    const changed = count !== this.total || estimated !== this.estimated;
    const before = this.total;
    this.total = count;
    this.estimated = estimated;
    this.pageTotal.textContent = `/ ${count}${estimated ? "+" : ""}`;
    const spoken = document.getElementById("page-total-text");  // "/ 30" on screen, "of 30 pages" when read
    const words = `of ${count}${estimated ? " or more" : ""} ${count === 1 ? "page" : "pages"}`;
    if (spoken) spoken.textContent = words;
    // the total read with the page-number box changed (a converting document grows): say so, once it is known
    // to have changed; the first total is read with the page itself
    if (changed && before > 0) announce(`Page ${this.view.current + 1} ${words}`);
    this.pageTotal.title = estimated ? "The page count is still being worked out" : "";
    this.setEnabled(count > 0);
    this.showPage(this.view.current);
  }

  showPage(page) {
    if (document.activeElement !== this.pageInput) this.pageInput.value = String(page + 1);
    this.first.disabled = this.prev.disabled = page <= 0;
    this.next.disabled = this.last.disabled = page >= this.total - 1;
  }

  showZoom(zoom, mode) {
    const percent = `${Math.round(zoom * 100)}%`;
    const preset = mode === "custom" ? String(Math.round(zoom * 100) / 100) : mode;
    if (ZOOM_PRESETS.has(preset)) {
      this.zoomSelect.value = preset;
      this.zoomCustom.hidden = true;
    } else {
      this.zoomCustom.textContent = percent;
      this.zoomCustom.hidden = false;
      this.zoomSelect.value = "custom";
    }
    this.zoomSelect.title = `Zoom level: ${percent}`;
    const level = document.getElementById("zoom-level");
    if (level) level.textContent = percent;
    this.fitWidth.setAttribute("aria-pressed", String(mode === "fit-width"));
    this.fitPage.setAttribute("aria-pressed", String(mode === "fit-page"));
  }
}
