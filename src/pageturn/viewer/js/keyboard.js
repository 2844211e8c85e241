// Keyboard shortcuts. Ctrl/⌘ shortcuts always act (Ctrl+F, Ctrl+P and Ctrl +/−/0 replace the browser's own,
// which would act on the viewer's chrome). Page keys act when focus is not in a text field. Single-character
// keys (+ − 0 zoom, n/p changes) act only while focus is in the document or the changes panel, so speech
// input and stray key presses elsewhere never trigger them (WCAG 2.1.4, "active only on focus").

export const SINGLE_KEY_SCOPE = "#viewport, #compare-panel";

function typingIn(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT"
    || (target.tagName === "INPUT" && !["button", "checkbox", "radio"].includes(target.type));
}

/**
 * @param {{zoomIn, zoomOut, zoomReset, nextPage, previousPage, firstPage, lastPage, find, findNext,
 *          findPrevious, escape, print, nextChange?, previousChange?}} actions
 */
export function bindKeys(actions) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey) return;
    const command = event.ctrlKey || event.metaKey;
    const key = event.key;
    let action = null;
    if (command) {
      action = {
        f: actions.find, F: actions.find, p: actions.print, P: actions.print,
        "+": actions.zoomIn, "=": actions.zoomIn, "-": actions.zoomOut, "0": actions.zoomReset,
      }[key];
    } else if (key === "Escape") {
      action = actions.escape;
    } else if (key === "F3") {
      action = event.shiftKey ? actions.findPrevious : actions.findNext;
    } else if (!typingIn(event.target)) {
      action = {
        PageDown: actions.nextPage, PageUp: actions.previousPage, Home: actions.firstPage, End: actions.lastPage,
      }[key];
      if (!action && event.target instanceof Element && event.target.closest(SINGLE_KEY_SCOPE)) {
        action = {
          "+": actions.zoomIn, "=": actions.zoomIn, "-": actions.zoomOut, "0": actions.zoomReset,
          n: actions.nextChange, p: actions.previousChange,
        }[key];
      }
    }
    if (!action) return;
    if (action(event) === false) return;  // the action declined: let the browser handle the key
    event.preventDefault();
  });
}
