// Keyboard focus helpers: one tab stop per composite widget (roving tabindex with arrow keys inside), focus
// that never falls to <body> when the focused control becomes disabled or hidden, and panels that Escape
// closes, giving focus back to whatever opened them.

/** Whether an element can take focus now: on screen and not disabled. */
export function focusable(el) {
  return Boolean(el) && !el.disabled && !el.hidden && el.getClientRects().length > 0
    && !el.closest("[hidden]") && getComputedStyle(el).visibility !== "hidden";
}

const ARROWS = {
  horizontal: { ArrowRight: 1, ArrowLeft: -1 },
  vertical: { ArrowDown: 1, ArrowUp: -1 },
};

/** Whether an arrow key belongs to a text field (moving its caret) rather than to the group. */
function fieldKeepsKey(target, key) {
  if (target.tagName === "SELECT") return key === "ArrowUp" || key === "ArrowDown";
  if (target.tagName !== "INPUT" || ["button", "checkbox", "radio"].includes(target.type)) return false;
  if (key === "ArrowUp" || key === "ArrowDown") return true;
  const { selectionStart: start, selectionEnd: end, value } = target;
  if (start === null) return false;
  if (start === 0 && end === value.length) return false;  // all selected (as on arrival): not editing yet
  if (key === "ArrowLeft") return !(start === 0 && end === 0);
  if (key === "ArrowRight") return !(start === value.length && end === value.length);
  return false;
}

/**
 * A composite widget with a single tab stop: Tab enters it on the last item used, arrows (and Home/End)
 * move inside it. Items are found again on every change, so controls that come and go are handled.
 * @param {HTMLElement} container
 * @param {string} selector  the items, inside container
 * @param {{orientation?: "horizontal"|"vertical", homeEnd?: boolean}} [options]
 */
export class RovingGroup {
  constructor(container, selector, { orientation = "horizontal", homeEnd = true } = {}) {
    this.container = container;
    this.selector = selector;
    this.arrows = ARROWS[orientation];
    this.homeEnd = homeEnd;
    this.stop = null;
    container.addEventListener("focusin", (event) => {
      const item = event.target.closest(selector);
      if (item && container.contains(item)) { this.stop = item; this.refresh(); }
    });
    container.addEventListener("keydown", (event) => this.onKey(event));
    window.addEventListener("resize", () => this.refresh());  // a narrow screen hides some items
    new MutationObserver(() => this.refresh()).observe(container, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["disabled", "hidden"],
    });
    this.refresh();
  }

  items() { return [...this.container.querySelectorAll(this.selector)].filter(focusable); }

  /** Exactly one item is in the tab order: the last one used if it can still take focus, else the first. */
  refresh() {
    const items = this.items();
    if (!items.includes(this.stop)) this.stop = items[0] || null;
    for (const el of this.container.querySelectorAll(this.selector)) {
      const index = el === this.stop ? "0" : "-1";
      if (el.getAttribute("tabindex") !== index) el.setAttribute("tabindex", index);
    }
  }

  /** Makes `item` the group's tab stop without focusing it (e.g. the current thumbnail). */
  setStop(item) { this.stop = item; this.refresh(); }

  focusItem(item) {
    if (!item) return;
    this.stop = item;
    this.refresh();
    item.focus();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const target = event.target;
    const items = this.items();
    const at = items.indexOf(target.closest(this.selector));
    if (at < 0) return;
    let next = null;
    const step = this.arrows[event.key];
    if (step) {
      if (fieldKeepsKey(target, event.key)) return;
      next = items[(at + step + items.length) % items.length];
    } else if (this.homeEnd && (event.key === "Home" || event.key === "End")) {
      if (fieldKeepsKey(target, event.key === "Home" ? "ArrowLeft" : "ArrowRight")) return;
      next = event.key === "Home" ? items[0] : items[items.length - 1];
    }
    if (!next) return;
    event.preventDefault();
    event.stopPropagation();  // the arrow moved focus: it is not also a page shortcut
    this.focusItem(next);
  }
}

/**
 * When the focused control becomes disabled or hidden (Next at the last page), the browser drops focus to
 * <body>; this gives it to `fallback(lost)` instead, e.g. the neighbouring control that still works.
 * @param {HTMLElement} root  @param {(lost: HTMLElement) => HTMLElement|null} fallback
 */
export function keepFocus(root, fallback) {
  let last = null;
  document.addEventListener("focusin", (event) => { last = event.target; });
  const check = () => {
    if (!last) return;
    const active = document.activeElement;
    // the browser may still report the control as focused until its next layout: judge by the control
    if (active && active !== document.body && active !== last) return;
    if (focusable(last)) return;
    const lost = last;
    const target = fallback(lost);
    if (target && target !== lost) target.focus();
  };
  new MutationObserver(check).observe(root, {
    subtree: true, attributes: true, attributeFilter: ["disabled", "hidden"], childList: true,
  });
}

/**
 * Open panels, latest last: Escape closes the latest, and closing a panel gives focus back to its opener.
 * Each panel: {name, isOpen(), close()}; open(name, opener) records who opened it.
 */
export class Panels {
  constructor() {
    this.panels = new Map();
    this.openers = new Map();
    this.order = [];
  }

  add(name, panel) { this.panels.set(name, panel); }

  /** A panel was opened by `opener` (the element focus returns to when it closes). */
  opened(name, opener) {
    this.order = this.order.filter((n) => n !== name);
    this.order.push(name);
    if (opener && opener !== document.body) this.openers.set(name, opener);
  }

  /** A panel closed without moving focus (the reader went elsewhere: Tab, a tap outside). */
  forget(name) {
    this.order = this.order.filter((n) => n !== name);
    this.openers.delete(name);
  }

  /** A panel was closed: focus goes back to its opener when it was inside the panel (or nowhere). */
  closed(name, container) {
    this.order = this.order.filter((n) => n !== name);
    const opener = this.openers.get(name);
    this.openers.delete(name);
    const active = document.activeElement;
    const focusLost = !active || active === document.body || (container && container.contains(active));
    if (focusLost && opener && focusable(opener)) opener.focus();
    return focusLost;
  }

  /** Escape: closes the most recently opened panel that is still open. @returns {boolean} whether one closed */
  closeLatest() {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const panel = this.panels.get(this.order[i]);
      if (panel && panel.isOpen()) { panel.close(); return true; }
    }
    for (const panel of this.panels.values()) if (panel.isOpen()) { panel.close(); return true; }
    return false;
  }
}
