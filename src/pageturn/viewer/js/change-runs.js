// Which characters of a comparison page's text were inserted or deleted: those whose glyph centre lies in a
// rectangle of an inserted (or moved-to) or deleted (or moved-from) change on that page. The accessible text
// marks them with <ins>/<del>, so their meaning does not rest on colour alone.

const KIND = { contentInserted: "ins", contentMovedTo: "ins", contentDeleted: "del", contentMovedFrom: "del" };

/**
 * @param {{text: string, rects: Float32Array}} entry  a page's text (text-store.js)
 * @param {{type: string, rectangles: {page: number, x: number, y: number, width: number, height: number}[]}[]} changes
 * @param {number} page
 * @returns {{start: number, end: number, kind: "ins"|"del"}[]}  character ranges, in order, not overlapping
 */
export function changeRuns(entry, changes, page) {
  const boxes = [];
  for (const change of changes) {
    const kind = KIND[change.type];
    if (!kind) continue;
    for (const r of change.rectangles) if (r.page === page) boxes.push({ ...r, kind });
  }
  const runs = [];
  if (!boxes.length || !entry || !entry.text) return runs;
  const { text, rects } = entry;
  for (let i = 0; i < text.length; i++) {
    const w = rects[i * 4 + 2];
    const h = rects[i * 4 + 3];
    const cx = rects[i * 4] + w / 2;
    const cy = rects[i * 4 + 1] + h / 2;
    const box = (w > 0 || h > 0) && boxes.find((b) => cx >= b.x && cx <= b.x + b.width && cy >= b.y && cy <= b.y + b.height);
    const kind = box ? box.kind : null;
    if (!kind) continue;
    const last = runs[runs.length - 1];
    // spaces between two marked words of the same kind join them into one run
    if (last && last.kind === kind && /^\s*$/.test(text.slice(last.end, i))) last.end = i + 1;
    else runs.push({ start: i, end: i + 1, kind });
  }
  return runs;
}
