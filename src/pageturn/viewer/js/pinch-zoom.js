// Touch zoom on the document: two fingers pinch the document's scale (not the browser's view, so the toolbar
// stays put) around the point between them; a double tap zooms in there, or back to the page width.
// Pages re-render sharp at the new scale once the gesture pauses (DocumentView.setZoom does that).

const DOUBLE_TAP_MS = 320;
const DOUBLE_TAP_PX = 30;

function distance(a, b) { return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); }

/** @param {import("./document-view.js").DocumentView} view */
export function installPinchZoom(view) {
  const scroller = view.scroller;
  let pinch = null;        // {distance, zoom}
  let frame = 0;
  let pending = null;
  let lastTap = null;      // {time, x, y}

  const local = (x, y) => {
    const rect = scroller.getBoundingClientRect();
    return { x: x - rect.left, y: y - rect.top };
  };

  const apply = () => {
    frame = 0;
    if (pending) view.setZoom(pending.zoom, pending.at);
    pending = null;
  };

  scroller.addEventListener("touchstart", (event) => {
    if (event.touches.length === 2) {
      const [a, b] = event.touches;
      pinch = { distance: Math.max(1, distance(a, b)), zoom: view.zoom };
      lastTap = null;
    }
  }, { passive: true });

  scroller.addEventListener("touchmove", (event) => {
    if (!pinch || event.touches.length !== 2) return;
    event.preventDefault();  // the document zooms, not the browser's view of the page
    const [a, b] = event.touches;
    pending = {
      zoom: pinch.zoom * (distance(a, b) / pinch.distance),
      at: local((a.clientX + b.clientX) / 2, (a.clientY + b.clientY) / 2),
    };
    if (!frame) frame = requestAnimationFrame(apply);
  }, { passive: false });

  scroller.addEventListener("touchend", (event) => {
    if (pinch) {
      if (event.touches.length < 2) pinch = null;
      return;
    }
    if (event.touches.length || event.changedTouches.length !== 1) return;
    const touch = event.changedTouches[0];
    const now = event.timeStamp;
    if (lastTap && now - lastTap.time < DOUBLE_TAP_MS
        && Math.hypot(touch.clientX - lastTap.x, touch.clientY - lastTap.y) < DOUBLE_TAP_PX) {
      event.preventDefault();  // no synthetic click, no browser double-tap zoom
      lastTap = null;
      const at = local(touch.clientX, touch.clientY);
      const fit = view.fitZoom("fit-width");
      if (view.zoom > fit * 1.5) view.setZoom("fit-width");
      else view.setZoom(view.zoom * 2, at);
      return;
    }
    lastTap = { time: now, x: touch.clientX, y: touch.clientY };
  }, { passive: false });
}
