// Printing: every page as a PNG at print resolution in a container only the printer sees, then the
// browser's print dialog. The screen view is hidden by the print style sheet, so what prints is the document.

const CONCURRENCY = 4;
const PRINT_DPI = 150;
const FULL_RESOLUTION_PAGES = 100;
const MIN_PRINT_DPI = 72;

/** Print resolution for a document of `count` pages: full up to 100 pages, then lower so the decoded pages of a
 *  long document stay within the browser's memory (the pixel total grows like the page count times dpi²). */
export function printDpi(count) {
  if (count <= FULL_RESOLUTION_PAGES) return PRINT_DPI;
  return Math.max(MIN_PRINT_DPI, Math.round(PRINT_DPI * Math.sqrt(FULL_RESOLUTION_PAGES / count)));
}

/**
 * @param {{api: import("./api.js").PrizmApi, count: number,
 *          rasterSize: (p: number) => {dpi: number}, root: HTMLElement, onProgress: (done: number) => void,
 *          signal: AbortSignal, overlay?: (page: number) => Element | null}} options
 */
export async function preparePrint({ api, count, rasterSize, root, onProgress, signal, overlay }) {
  root.replaceChildren();
  const pages = [];
  const target = printDpi(count);
  for (let page = 0; page < count; page++) {
    const holder = document.createElement("div");
    holder.className = "print-page";
    const img = new Image();
    img.alt = `Page ${page + 1}`;
    const layer = overlay ? overlay(page) : null;
    if (layer) {  // annotations over the page image, in the same box so they stay aligned
      const sheet = document.createElement("div");
      sheet.className = "print-sheet";
      sheet.append(img, layer);
      holder.appendChild(sheet);
    } else holder.appendChild(img);
    root.appendChild(holder);
    // the server's raster resolution is the print resolution unless the source is finer (a 600 dpi scan)
    const dpi = rasterSize(page).dpi || PRINT_DPI;
    pages.push({ img, page, scale: Math.min(1, target / dpi) });
  }
  let done = 0;
  let next = 0;
  async function worker() {
    while (next < pages.length) {
      if (signal.aborted) throw new DOMException("Printing was cancelled", "AbortError");
      const { img, page, scale } = pages[next++];
      // a plain URL, not a blob: the browser's image cache may drop decoded pages of a long document
      // an encrypted session's pages are fetched and decrypted first
      const url = api.encrypted ? URL.createObjectURL(await api.pagePng(page, scale, signal)) : api.pngUrl(page, scale);
      await loadImage(img, url, () => api.pagePng(page, scale, signal));
      // the printer's page turns with the document's (named @page "landscape" in the print style sheet)
      img.closest(".print-page").classList.add(img.naturalWidth > img.naturalHeight ? "landscape" : "portrait");
      onProgress(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pages.length) }, worker));
}

/** Loads an image; when it fails, asks again with fetch to learn why (an ApiError with the server's message). */
function loadImage(img, url, explain) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => explain().then(() => reject(new Error("The page image could not be decoded")), reject);
    img.src = url;
  });
}

/** Drops the printed pages once the print dialog closed. */
export function clearPrint(root) {
  root.replaceChildren();
}
