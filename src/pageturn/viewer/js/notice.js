// The card over the page area that tells the reader what is happening: opening, converting, or why the
// document cannot be shown.

export class Notice {
  /** @param {HTMLElement} root  the #notice element */
  constructor(root) {
    this.root = root;
    this.title = root.querySelector(".notice-title");
    this.text = root.querySelector(".notice-text");
    this.progress = root.querySelector(".progress");
    this.bar = root.querySelector(".progress-bar");
    this.actions = root.querySelector(".notice-actions");
    this.fatal = false;
  }

  /** A passing state (opening, converting); `progress` 0..1, or null for "working, length unknown". */
  loading(title, text = "", progress = null) {
    if (this.fatal) return;
    this.root.className = "notice loading";
    this.root.setAttribute("role", "status");
    this.title.textContent = title;
    this.text.textContent = text;
    this.progress.hidden = false;
    this.progress.classList.toggle("indeterminate", progress === null);
    this.bar.style.width = progress === null ? "" : `${Math.round(progress * 100)}%`;
    this.actions.replaceChildren();
    this.root.hidden = false;
  }

  /** The document cannot be shown; stays until the page is reloaded. */
  error(title, text, actions = []) {
    this.fatal = true;
    this.root.className = "notice error";
    this.root.setAttribute("role", "alert");
    this.title.textContent = title;
    this.text.textContent = text;
    this.progress.hidden = true;
    this.actions.replaceChildren(...actions);
    this.root.hidden = false;
  }

  hide() {
    if (!this.fatal) this.root.hidden = true;
  }
}

const KNOWN_CODES = {
  DocumentNotProvidedYet: "No document has been given to this viewing session yet.",
  ServerContentDisabled: "This server does not render this document.",
  ConversionFailed: "The document could not be converted for viewing.",
  RenderTimeout: "The server took too long to prepare this document.",
};

/** What to tell the reader about an API error that stops the whole document. */
export function describeError(error) {
  switch (error.kind) {
    case "session":
      return { title: "This document is no longer available", text: error.userMessage };
    case "unsupported":
      return {
        title: "This file cannot be shown",
        text: /unrecognized file format/i.test(error.userMessage)
          ? "Its format is not supported (Unrecognized File Format)." : error.userMessage,
      };
    case "not-found":
      return { title: "Document not found", text: "This viewing session does not exist. Check the link." };
    case "network":
      return { title: "The server cannot be reached", text: "Check your connection, then reload the page." };
    default:
      return { title: "The document could not be shown", text: KNOWN_CODES[error.errorCode] || error.userMessage
        || String(error.message || error) };
  }
}
