// Draws marks of the PrizmDoc markup JSON format as SVG, in page units (the page's size in points). A mark's
// coordinates refer to its pageData size; they are scaled to the page here, so marks stay aligned at every
// zoom (the page overlay scales the whole layer) and in print (the same SVG over the printed image).

const SVG = "http://www.w3.org/2000/svg";

export const TEXT_SELECTION_TYPES = new Set(["HighlightAnnotation", "StrikethroughAnnotation",
  "TextHyperlinkAnnotation", "TextSelectionRedaction"]);
export const REDACTION_TYPES = new Set(["RectangleRedaction", "TextSelectionRedaction", "TextRedaction",
  "StampRedaction", "ImageStampRedaction", "TransparentRectangleRedaction"]);

export const LABELS = {
  HighlightAnnotation: "Highlight", StrikethroughAnnotation: "Strike-through", RectangleAnnotation: "Rectangle",
  EllipseAnnotation: "Ellipse", LineAnnotation: "Line", PolylineAnnotation: "Polyline",
  FreehandAnnotation: "Freehand ink", TextAnnotation: "Text note", RectangleRedaction: "Area redaction",
  TextSelectionRedaction: "Text redaction", TextHyperlinkAnnotation: "Hyperlink", StampAnnotation: "Stamp",
  StampRedaction: "Stamp redaction", TextRedaction: "Text redaction box", ImageStampAnnotation: "Image stamp",
  ImageStampRedaction: "Image stamp redaction", TransparentRectangleRedaction: "Transparent redaction",
  FreehandSignature: "Signature", TextSignature: "Signature", TextInputSignature: "Signature",
  TextAreaSignature: "Signature",
};

export function label(mark) {
  if (mark.type === "StrikethroughAnnotation" && mark.data?.pageturnStyle === "underline") return "Underline";
  if (mark.type === "LineAnnotation" && mark.endHeadType && mark.endHeadType !== "None") return "Arrow";
  return LABELS[mark.type] || mark.type;
}

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  return node;
}

export function svgLayer(width, height, className) {
  const svg = el("svg", { class: className, viewBox: `0 0 ${width} ${height}`, width, height });
  return svg;
}

/** The pages a mark appears on (text-selection marks may span several), 0-based. */
export function pagesOf(mark) {
  if (TEXT_SELECTION_TYPES.has(mark.type) && Array.isArray(mark.lineGroups)) {
    return [...new Set(mark.lineGroups.map((g) => g.pageNumber - 1))];
  }
  return [mark.pageNumber - 1];
}

function alpha(opacity) {
  return typeof opacity === "number" ? Math.max(0, Math.min(1, opacity / 255)) : 1;
}

function addText(group, text, x, y, w, h, { color, size, align = "middle", valign = "middle" }) {
  if (!text) return;
  const lines = String(text).split("\n");
  const fontSize = size || Math.max(4, Math.min(h * 0.7 / lines.length, 48));
  const anchorX = align === "start" ? x + 2 : align === "end" ? x + w - 2 : x + w / 2;
  const block = fontSize * 1.15 * lines.length;
  const top = valign === "top" ? y + 2 : y + (h - block) / 2;
  const node = el("text", { x: anchorX, y: top, fill: color, "font-size": fontSize, "font-family": "Helvetica, Arial, sans-serif",
    "text-anchor": align, class: "mark-text" });
  lines.forEach((line, i) => {
    const span = el("tspan", { x: anchorX, dy: i === 0 ? fontSize * 0.9 : fontSize * 1.15 });
    span.textContent = line;
    node.appendChild(span);
  });
  group.appendChild(node);
}

function scaled(value, s) { return value * s; }

/**
 * One mark as an SVG group in page units, for one page. `page` is 0-based, `units` the page's {width, height}.
 * Returns null when the mark has nothing on that page.
 */
export function renderMark(mark, page, units, { selected = false } = {}) {
  const group = el("g", { class: `markup ${REDACTION_TYPES.has(mark.type) ? "redaction" : ""} ${selected ? "selected" : ""}`,
    "data-uid": mark.uid });
  group.setAttribute("role", "img");
  group.setAttribute("aria-label", `${label(mark)} on page ${page + 1}`);
  if (TEXT_SELECTION_TYPES.has(mark.type)) {
    for (const lineGroup of mark.lineGroups || []) {
      if (lineGroup.pageNumber - 1 !== page) continue;
      const sx = units.width / lineGroup.pageData.width;
      const sy = units.height / lineGroup.pageData.height;
      for (const line of lineGroup.lines) {
        const x = line.x * sx, y = line.y * sy, w = line.width * sx, h = line.height * sy;
        if (mark.type === "HighlightAnnotation") {
          group.appendChild(el("rect", { x, y, width: w, height: h, fill: mark.fillColor || "#FFFF00", class: "highlight" }));
        } else if (mark.type === "StrikethroughAnnotation") {
          const underline = mark.data?.pageturnStyle === "underline";
          const ly = underline ? y + h - 1 : y + h / 2;
          group.appendChild(el("line", { x1: x, y1: ly, x2: x + w, y2: ly, stroke: mark.color || "#FF0000",
            "stroke-width": mark.thickness || 1 }));
        } else if (mark.type === "TextHyperlinkAnnotation") {
          group.appendChild(el("line", { x1: x, y1: y + h - 1, x2: x + w, y2: y + h - 1, stroke: mark.fillColor || "#0000FF",
            "stroke-width": 1.5 }));
        } else {
          group.appendChild(el("rect", { x, y, width: w, height: h, fill: mark.fillColor || "#000000", class: "redaction-box" }));
        }
        group.appendChild(el("rect", { x, y, width: w, height: h, class: "hit-area" }));
      }
    }
    if (mark.type === "TextSelectionRedaction" && mark.reason) {
      const first = (mark.lineGroups || []).find((g) => g.pageNumber - 1 === page);
      if (first && first.lines[0]) {
        const sx = units.width / first.pageData.width, sy = units.height / first.pageData.height;
        const l = first.lines[0];
        addText(group, mark.reason, l.x * sx, l.y * sy, l.width * sx, l.height * sy, { color: mark.fontColor || "#FFFFFF" });
      }
    }
    return group.childNodes.length ? group : null;
  }
  if (mark.pageNumber - 1 !== page) return null;
  const sx = units.width / (mark.pageData?.width || units.width);
  const sy = units.height / (mark.pageData?.height || units.height);
  const r = mark.rectangle ? { x: scaled(mark.rectangle.x, sx), y: scaled(mark.rectangle.y, sy),
    w: scaled(mark.rectangle.width, sx), h: scaled(mark.rectangle.height, sy) } : null;
  const opacity = alpha(mark.opacity);
  switch (mark.type) {
    case "RectangleAnnotation":
      group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: mark.fillColor || "none",
        "fill-opacity": opacity, stroke: mark.borderColor || "#000000", "stroke-width": mark.borderThickness ?? 1 }));
      break;
    case "EllipseAnnotation":
      group.appendChild(el("ellipse", { cx: r.x + r.w / 2, cy: r.y + r.h / 2, rx: r.w / 2, ry: r.h / 2,
        fill: mark.fillColor || "none", "fill-opacity": opacity, stroke: mark.borderColor || "#000000",
        "stroke-width": mark.borderThickness ?? 1 }));
      break;
    case "LineAnnotation": {
      const x1 = mark.startPoint.x * sx, y1 = mark.startPoint.y * sy, x2 = mark.endPoint.x * sx, y2 = mark.endPoint.y * sy;
      const color = mark.color || "#000000";
      const width = mark.thickness || 2;
      group.appendChild(el("line", { x1, y1, x2, y2, stroke: color, "stroke-width": width, "stroke-linecap": "round",
        "stroke-opacity": opacity }));
      if (mark.endHeadType && mark.endHeadType !== "None") {
        const angle = Math.atan2(y2 - y1, x2 - x1), size = Math.max(8, width * 4);
        const points = [[x2, y2], [x2 - size * Math.cos(angle - 0.45), y2 - size * Math.sin(angle - 0.45)],
          [x2 - size * Math.cos(angle + 0.45), y2 - size * Math.sin(angle + 0.45)]];
        group.appendChild(el("polygon", { points: points.map((p) => p.join(",")).join(" "), fill: color }));
      }
      group.appendChild(el("line", { x1, y1, x2, y2, class: "hit-line" }));
      break;
    }
    case "PolylineAnnotation":
      group.appendChild(el("polyline", { points: mark.points.map((p) => `${p.x * sx},${p.y * sy}`).join(" "),
        fill: "none", stroke: mark.color || "#000000", "stroke-width": mark.thickness || 2 }));
      break;
    case "FreehandAnnotation":
    case "FreehandSignature":
      if (mark.path) {
        const path = el("path", { d: mark.path, fill: "none", stroke: mark.color || "#000000",
          "stroke-width": (mark.thickness || 2) / Math.max(sx, 1e-6), "stroke-linecap": "round", "stroke-linejoin": "round",
          transform: `scale(${sx} ${sy})`, "stroke-opacity": opacity });
        group.appendChild(path);
        group.appendChild(el("path", { d: mark.path, transform: `scale(${sx} ${sy})`, class: "hit-line",
          "stroke-width": 10 / Math.max(sx, 1e-6) }));
        break;
      }
      addText(group, "", r.x, r.y, r.w, r.h, {});
      break;
    case "TextAnnotation":
      group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: mark.fillColor || "#FFFFE0",
        "fill-opacity": opacity, stroke: mark.borderColor || "#8a7a00", "stroke-width": mark.borderThickness ?? 1 }));
      addText(group, mark.text, r.x, r.y, r.w, r.h, { color: mark.fontColor || "#000000", size: mark.fontSize || 12,
        align: "start", valign: "top" });
      break;
    case "RectangleRedaction":
    case "TextRedaction":
    case "StampRedaction":
      group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: mark.fillColor || "#000000",
        class: "redaction-box" }));
      addText(group, mark.reason || mark.text || mark.label, r.x, r.y, r.w, r.h, { color: mark.fontColor || "#FFFFFF" });
      break;
    case "TransparentRectangleRedaction":
      group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: "#FFFFFF", stroke: "#999999",
        "stroke-dasharray": "4 2", class: "redaction-box" }));
      break;
    case "ImageStampAnnotation":
    case "ImageStampRedaction":
      if (mark.type === "ImageStampRedaction") {
        group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: "#000000", class: "redaction-box" }));
      }
      if (typeof mark.imageDataUrl === "string" && mark.imageDataUrl.startsWith("data:image/")) {
        group.appendChild(el("image", { x: r.x, y: r.y, width: r.w, height: r.h, href: mark.imageDataUrl,
          preserveAspectRatio: "none" }));
      }
      break;
    case "StampAnnotation":
      group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: "none", stroke: mark.color || "#FF0000",
        "stroke-width": 2 }));
      addText(group, mark.label, r.x, r.y, r.w, r.h, { color: mark.color || "#FF0000" });
      break;
    default:  // signatures as text in their box
      if (r) addText(group, mark.text, r.x, r.y, r.w, r.h, { color: mark.color || mark.fontColor || "#000000" });
  }
  if (r) group.appendChild(el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, class: "hit-area" }));
  return group;
}

/** The mark's bounding box in page units on its page (for selection handles), or null. */
export function boundsOf(mark, units) {
  const sx = units.width / (mark.pageData?.width || units.width);
  const sy = units.height / (mark.pageData?.height || units.height);
  if (mark.rectangle) {
    return { x: mark.rectangle.x * sx, y: mark.rectangle.y * sy, width: mark.rectangle.width * sx,
      height: mark.rectangle.height * sy };
  }
  let points = [];
  if (mark.startPoint) points = [mark.startPoint, mark.endPoint];
  else if (mark.points) points = mark.points;
  else if (mark.path) {
    const numbers = mark.path.match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi) || [];
    for (let i = 0; i + 1 < numbers.length; i += 2) points.push({ x: Number(numbers[i]), y: Number(numbers[i + 1]) });
  }
  if (!points.length) return null;
  const xs = points.map((p) => p.x * sx), ys = points.map((p) => p.y * sy);
  const x = Math.min(...xs), y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

export { el as svgElement };
