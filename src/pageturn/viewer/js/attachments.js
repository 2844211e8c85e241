// An e-mail's attachments, as a strip of links above the pages: each opens the attachment's own viewing
// session (listed by GET ViewingSession/u{id}/Attachments) in a new tab. Nothing shows for other documents.

const POLL_MS = 500;
const MAX_POLLS = 120;  // the list is built in one request today; "pending" is only waited for a minute

export class AttachmentList {
  /** @param {HTMLElement} root  @param {import("./api.js").PrizmApi} api */
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.list = root.querySelector("ul");
  }

  async load() {
    for (let poll = 0; poll < MAX_POLLS; poll++) {
      let answer;
      try {
        answer = await this.api.attachments();
      } catch {
        return;  // the list is a convenience: the document itself still shows
      }
      if (answer && answer.status === "complete") return this.show(Array.isArray(answer.attachments) ? answer.attachments : []);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  show(attachments) {
    this.list.replaceChildren();
    for (const item of attachments) {
      if (!item || typeof item.viewingSessionId !== "string" || !/^[A-Za-z0-9_-]+$/.test(item.viewingSessionId)) continue;
      const link = document.createElement("a");
      link.href = new URL(encodeURIComponent(item.viewingSessionId), location.href).href;
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "attachment-link";
      link.textContent = String(item.displayName || "attachment");  // text only: a name is never markup
      const entry = document.createElement("li");
      entry.append(link);
      this.list.append(entry);
    }
    this.root.hidden = this.list.children.length === 0;
  }
}
