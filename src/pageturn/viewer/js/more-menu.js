// "More actions": on narrow screens the toolbar keeps what is used most and this menu offers every action
// the width hid (first/last page, zoom steps, fit, changes, print, download). The menu is built when opened
// from the real controls that are present but not shown, so it always matches the toolbar; choosing an
// item clicks the real control.

import { focusable } from "./focus.js";

const SOURCES = ["first-page", "last-page", "zoom-out", "zoom-in", "fit-width", "fit-page", "toggle-changes",
  "print", "download"];

export class MoreMenu {
  /** @param {HTMLButtonElement} button  @param {HTMLElement} menu  @param {import("./focus.js").Panels} panels */
  constructor(button, menu, panels) {
    this.button = button;
    this.menu = menu;
    this.panels = panels;
    panels.add("more", { isOpen: () => !menu.hidden, close: () => this.close() });
    button.addEventListener("click", () => (menu.hidden ? this.open() : this.close()));
    button.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.open(event.key === "ArrowUp" ? -1 : 0);
      }
    });
    menu.addEventListener("keydown", (event) => this.onKey(event));
    menu.addEventListener("focusout", (event) => {
      if (!menu.hidden && !menu.contains(event.relatedTarget) && event.relatedTarget !== button) this.close(false);
    });
    document.addEventListener("pointerdown", (event) => {
      if (!menu.hidden && !menu.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
  }

  /** The real controls this width does not show. */
  hiddenActions() {
    return SOURCES.map((id) => document.getElementById(id))
      .filter((el) => el && !el.hidden && el.getClientRects().length === 0);
  }

  open(focusIndex = 0) {
    const items = this.hiddenActions().map((source) => this.item(source));
    this.menu.replaceChildren(...items);
    if (!items.length) return;
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.panels.opened("more", this.button);
    const usable = this.items();
    (usable.at(focusIndex) || items[0]).focus();
  }

  close(returnFocus = true) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.panels.closed("more", this.menu);
    else this.panels.forget("more");
  }

  item(source) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "menu-item";
    item.tabIndex = -1;
    item.dataset.for = source.id;
    const pressed = source.getAttribute("aria-pressed");
    if (pressed !== null) {
      item.setAttribute("role", "menuitemcheckbox");
      item.setAttribute("aria-checked", pressed);
    } else {
      item.setAttribute("role", "menuitem");
    }
    if (source.disabled) item.setAttribute("aria-disabled", "true");
    const icon = source.querySelector("svg")?.cloneNode(true);
    if (icon) item.appendChild(icon);
    const label = document.createElement("span");
    label.textContent = source.getAttribute("aria-label") || source.textContent.trim();
    item.appendChild(label);
    item.addEventListener("click", () => {
      if (item.getAttribute("aria-disabled") === "true") return;
      this.close();
      source.click();
    });
    return item;
  }

  items() { return [...this.menu.querySelectorAll(".menu-item")].filter(focusable); }

  onKey(event) {
    const items = this.items();
    const at = items.indexOf(document.activeElement);
    const move = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      items[(move + items.length) % items.length]?.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    } else if (event.key === "Tab") {
      this.close(false);
    }
  }
}
