// Keyboard shortcuts. Plain keys act only when focus is not in a text field; Ctrl/⌘ shortcuts always do
// (Ctrl+F, Ctrl+P and Ctrl +/−/0 replace the browser's own, which would act on the viewer's chrome).

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
        "+": actions.zoomIn, "=": actions.zoomIn, "-": actions.zoomOut, "0": actions.zoomReset,
        PageDown: actions.nextPage, PageUp: actions.previousPage, Home: actions.firstPage, End: actions.lastPage,
        n: actions.nextChange, p: actions.previousChange,
      }[key];
    }
    if (!action) return;
    if (action(event) === false) return;  // the action declined: let the browser handle the key
    event.preventDefault();
  });
}
