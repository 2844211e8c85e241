// The invisible text over a page, one span per word (with its trailing space) stretched over the word's glyph
// rectangles, so selection follows the document's glyphs; copying gives the document's own text, its spaces and
// line breaks included. Words, not characters: a tenth of the elements, which keeps scrolling smooth.

const runStart = new WeakMap();    // span -> index in the page text of its first character
const layerText = new WeakMap();   // layer -> PageText
let measureContext = null;
const measured = new Map();        // char -> width at 100px in the layer's font

function widthAt100(char) {
  let width = measured.get(char);
  if (width === undefined) {
    measureContext ||= document.createElement("canvas").getContext("2d");
    measureContext.font = "100px sans-serif";
    width = measureContext.measureText(char).width;
    measured.set(char, width);
  }
  return width;
}

/**
 * Runs of characters drawn as one span: a word and the spaces after it, on one line.
 * @returns {{start: number, end: number, x: number, y: number, width: number, height: number}[]}
 */
export function textRuns(entry) {
  const { text, rects } = entry;
  const runs = [];
  let run = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\n" || char === "\r") { run = null; continue; }  // line breaks have no glyph
    const x = rects[i * 4];
    const y = rects[i * 4 + 1];
    const w = rects[i * 4 + 2];
    const h = rects[i * 4 + 3];
    const boxed = w > 0 && h > 0;
    if (run && boxed) {
      const right = run.x + run.width;
      const sameLine = Math.abs(y - run.y) < Math.max(h, run.height) * 0.5 && x >= right - h * 0.3
        && x <= right + h * 0.6;
      if (!sameLine || run.closed) run = null;
    }
    if (!run) {
      if (!boxed) continue;  // a stray character without a box cannot be placed
      run = { start: i, end: i + 1, x, y, width: w, height: h, closed: false };
      runs.push(run);
    } else {
      run.end = i + 1;
      if (boxed) {
        const bottom = Math.max(run.y + run.height, y + h);
        run.y = Math.min(run.y, y);
        run.height = bottom - run.y;
        run.width = Math.max(run.width, x + w - run.x);
      }
    }
    if (/\s/.test(char)) run.closed = true;  // a word ends after its spaces
  }
  return runs;
}

/** @param {import("./text-store.js").PageText} entry  @returns {HTMLElement} */
export function buildTextLayer(entry) {
  const layer = document.createElement("div");
  layer.className = "text-layer";
  // for selection only: assistive technology reads the document's lines from the text version (a11y-text.js)
  layer.setAttribute("aria-hidden", "true");
  layer.style.width = `${entry.width}px`;
  layer.style.height = `${entry.height}px`;
  const fragment = document.createDocumentFragment();
  for (const run of textRuns(entry)) {
    const content = entry.text.slice(run.start, run.end);
    let natural = 0;
    for (const char of content) natural += widthAt100(char);
    natural = (natural * run.height) / 100;
    const stretch = natural > 0 ? run.width / natural : 1;
    const span = document.createElement("span");
    span.textContent = content;
    span.style.cssText = `left:${run.x}px;top:${run.y}px;font-size:${run.height}px;`
      + `transform:scaleX(${stretch.toFixed(4)})`;
    runStart.set(span, run.start);
    fragment.appendChild(span);
  }
  layer.appendChild(fragment);
  layerText.set(layer, entry);
  return layer;
}

/** Rectangles covering characters start..end (exclusive), one per line, in page units. */
export function rangeRects(entry, start, end) {
  const out = [];
  let current = null;
  for (let i = start; i < end; i++) {
    const x = entry.rects[i * 4];
    const y = entry.rects[i * 4 + 1];
    const w = entry.rects[i * 4 + 2];
    const h = entry.rects[i * 4 + 3];
    if (w <= 0 || h <= 0) continue;
    const sameLine = current && Math.abs(y - current.y) < Math.max(h, current.height) * 0.5
      && x >= current.x - h;
    if (sameLine) {
      const right = Math.max(current.x + current.width, x + w);
      const bottom = Math.max(current.y + current.height, y + h);
      current.x = Math.min(current.x, x);
      current.y = Math.min(current.y, y);
      current.width = right - current.x;
      current.height = bottom - current.y;
    } else {
      current = { x, y, width: w, height: h };
      out.push(current);
    }
  }
  return out;
}

/** Position in the page text of a DOM boundary point inside a text layer. */
function textPosition(layer, node, offset) {
  if (node.nodeType === Node.TEXT_NODE) {
    const start = runStart.get(node.parentNode);
    return start === undefined ? null : start + offset;
  }
  if (runStart.has(node)) return runStart.get(node) + (offset > 0 ? node.textContent.length : 0);
  if (node === layer) {
    const child = layer.childNodes[offset];
    return child ? runStart.get(child) : layerText.get(layer).text.length;
  }
  return null;
}

/** The document text under the selection, or null when the selection holds no page text. */
export function selectedPageText(selection) {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  const layers = [...document.querySelectorAll(".text-layer")]
    .filter((layer) => range.intersectsNode(layer) && layerText.has(layer))
    .sort((a, b) => layerText.get(a).page - layerText.get(b).page);
  if (!layers.length) return null;
  const parts = [];
  for (const layer of layers) {
    const entry = layerText.get(layer);
    let start = 0;
    let end = entry.text.length;
    if (layer.contains(range.startContainer)) start = textPosition(layer, range.startContainer, range.startOffset) ?? 0;
    if (layer.contains(range.endContainer)) end = textPosition(layer, range.endContainer, range.endOffset) ?? end;
    if (end > start) parts.push(entry.text.slice(start, end));
  }
  return parts.length ? parts.join("\n") : null;
}

/** Copy gives the document's text exactly, not the layout's approximation of it. */
export function installCopyHandler(root = document) {
  root.addEventListener("copy", (event) => {
    const text = selectedPageText(window.getSelection());
    if (text === null || !event.clipboardData) return;
    event.clipboardData.setData("text/plain", text);
    event.preventDefault();
  });
}
