// One polite live region for the whole viewer (#announcer): page changes, zoom, the selected change, search
// results. Any module may call announce(); a message that is replaced quickly (scrolling through pages) is
// spoken once, when it settles.

const SETTLE_MS = 350;
let timer = 0;

function region() {
  return document.getElementById("announcer");
}

/**
 * Says `text` to assistive technology, politely. With `settle`, waits until no newer message of the same
 * kind came for a moment (a stream of page changes while scrolling becomes one message).
 * @param {string} text
 * @param {{settle?: boolean}} [options]
 */
export function announce(text, { settle = false } = {}) {
  const live = region();
  if (!live) return;
  // a settled message replaces the one still settling; one said at once leaves it to follow
  if (settle) clearTimeout(timer);
  const say = () => {
    // the same text twice in a row is spoken again only if the node changes: clear, then set
    if (live.textContent === text) live.textContent = "";
    live.textContent = text;
  };
  if (settle) timer = setTimeout(say, SETTLE_MS);
  else say();
}

/** The last message (for tests and for a page that wants to repeat it). */
export function lastAnnouncement() {
  return region()?.textContent || "";
}
