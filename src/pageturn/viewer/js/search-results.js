// The list of search results under the search bar: one button per hit with its page number and context (the
// match in bold), appended as hits arrive; choosing one makes it the current hit (the view jumps to it).

const SHOWN = 1000;  // a longer list is cut here: Enter / Shift+Enter still reach every hit

export class SearchResults {
  /** @param {HTMLElement} panel  @param {import("./search.js").Search} search */
  constructor(panel, search) {
    this.panel = panel;
    this.list = panel.querySelector("ol");
    this.more = panel.querySelector(".search-more");
    this.search = search;
    this.shown = 0;
    this.query = null;
    this.list.addEventListener("click", (event) => {
      const item = event.target instanceof Element ? event.target.closest("[data-hit]") : null;
      if (item) this.search.select(Number(item.dataset.hit));
    });
    search.addEventListener("change", () => this.update());
  }

  update() {
    const { hits, index, query } = this.search;
    if (query !== this.query || hits.length < this.shown) {  // a new search: start over
      this.query = query;
      this.shown = 0;
      this.list.replaceChildren();
    }
    const fragment = document.createDocumentFragment();
    for (; this.shown < Math.min(hits.length, SHOWN); this.shown++) fragment.appendChild(this.item(hits[this.shown], this.shown));
    this.list.appendChild(fragment);
    this.more.hidden = hits.length <= SHOWN;
    this.more.textContent = hits.length > SHOWN ? `and ${hits.length - SHOWN} more (use Enter to go on)` : "";
    this.panel.hidden = !query.trim() || hits.length === 0;
    const previous = this.list.querySelector('[aria-current="true"]');
    if (previous) previous.removeAttribute("aria-current");
    const current = index >= 0 && index < this.shown ? this.list.children[index] : null;
    if (current) {
      const button = current.firstElementChild;
      button.setAttribute("aria-current", "true");
      if (current !== this.lastCurrent) button.scrollIntoView({ block: "nearest" });
      this.lastCurrent = current;
    }
  }

  item(hit, position) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "search-result";
    button.dataset.hit = String(position);
    const page = document.createElement("span");
    page.className = "search-result-page";
    page.textContent = `Page ${hit.page + 1}`;
    const context = document.createElement("span");
    context.className = "search-result-context";
    const at = Math.max(0, Math.min(hit.at, hit.context.length));
    const end = Math.min(hit.context.length, at + hit.text.length);
    const bold = document.createElement("b");
    bold.textContent = hit.context.slice(at, end);
    context.append(hit.context.slice(0, at), bold, hit.context.slice(end));
    button.append(page, context);
    li.appendChild(button);
    return li;
  }
}
