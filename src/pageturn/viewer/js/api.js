// The PrizmDoc HTML5 viewing API as the viewer uses it: the public URLs only, nothing private.

/** An HTTP error from the server, with what the viewer needs to explain it to a person. */
export class ApiError extends Error {
  constructor({ status, reason = "", statusNumber = null, statusMessage = "", errorCode = "", details = null }) {
    super(statusMessage || reason || errorCode || `HTTP ${status}`);
    this.status = status;
    this.reason = reason;
    this.statusNumber = statusNumber;
    this.statusMessage = statusMessage;
    this.errorCode = errorCode;
    this.details = details;
  }

  /** "password" | "unsupported" | "session" | "not-found" | "network" | "other" */
  get kind() {
    if (this.status === 0) return "network";
    if (this.status === 480 && this.statusNumber === 4001) return "password";
    if (this.status === 580 && /unrecognized file format/i.test(this.statusMessage)) return "unsupported";
    if (this.status === 580 && this.errorCode === "InvalidDocument") return "unsupported";
    if (this.status === 403) return "session";
    // a stopped or errored session answers its own status, with its message in the reason phrase and header
    if (this.statusMessage && this.status !== 480 && this.status !== 580) return "session";
    if (this.status === 500 || this.status === 404) return "not-found";
    return "other";
  }

  /** The end-user message the server gave, or a plain description. */
  get userMessage() {
    const detail = this.details && typeof this.details === "object" ? this.details.message : "";
    return this.statusMessage || detail || this.reason || this.errorCode || `The server answered ${this.status}`;
  }
}

async function errorFrom(response) {
  let errorCode = "";
  let details = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      const body = await response.json();
      errorCode = body.errorCode || "";
      details = body.errorDetails ?? null;
    } catch { /* a body that is not JSON adds nothing */ }
  }
  const number = response.headers.get("Accusoft-Status-Number");
  return new ApiError({
    status: response.status,
    reason: response.statusText,
    statusNumber: number !== null && /^\d+$/.test(number) ? Number(number) : null,
    statusMessage: response.headers.get("Accusoft-Status-Message") || "",
    errorCode,
    details,
  });
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** 16 random bytes, and the unpadded base64url form the `iv` query parameter carries. */
function newIv() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const text = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { bytes, text };
}

/** The session's wrapping key. WebCrypto exists only in secure contexts (HTTPS or localhost). */
function importWrapKey(encoded) {
  const key = globalThis.crypto?.subtle
    ? crypto.subtle.importKey("raw", fromBase64(encoded), "AES-CBC", false, ["decrypt"])
    : Promise.reject(new ApiError({ status: 400,
      statusMessage: "This document is encrypted and can only be shown over a secure (HTTPS) connection" }));
  key.catch(() => {});  // reported where it is used
  return key;
}

export class PrizmApi {
  /**
   * @param {string} viewingSessionId  @param {string} apiBase  origin or "" for this server
   * @param {string} [encryptionKey]  base64 wrapping key of a session with pageContentEncryption
   */
  constructor(viewingSessionId, apiBase = "", encryptionKey = "") {
    this.id = viewingSessionId;
    this.base = apiBase.replace(/\/$/, "");
    this.wrapKey = encryptionKey ? importWrapKey(encryptionKey) : null;
  }

  get encrypted() {
    return this.wrapKey !== null;
  }

  /**
   * Page content (SVG, PNG, tiles, thumbnails, text): for an encrypted session the request carries a new `iv`
   * and an answer marked Accusoft-Data-Encrypted is decrypted here (the content key from Accusoft-Data-SK,
   * then the body, both AES-CBC with that iv). Answers a Response either way.
   */
  async content(path, params, { signal, type }) {
    return this.contentAt(this.url(path, params), { signal, type });
  }

  /** As content(), for a full URL (search results of an encrypted session are content too). */
  async contentAt(url, { signal, type }) {
    if (!this.wrapKey) return this.request(url, { signal });
    const iv = newIv();
    const sealed = new URL(url, location.href);
    sealed.searchParams.set("iv", iv.text);
    const response = await this.request(sealed.href, { signal });
    if (response.headers.get("Accusoft-Data-Encrypted") !== "true") return response;
    const algorithm = { name: "AES-CBC", iv: iv.bytes };
    const wrapped = fromBase64(response.headers.get("Accusoft-Data-SK") || "");
    const raw = await crypto.subtle.decrypt(algorithm, await this.wrapKey, wrapped);
    const key = await crypto.subtle.importKey("raw", raw, "AES-CBC", false, ["decrypt"]);
    const plain = await crypto.subtle.decrypt(algorithm, key, await response.arrayBuffer());
    return new Response(plain, { headers: { "Content-Type": type } });
  }

  url(path, params = {}) {
    const query = new URLSearchParams({ DocumentID: "u" + this.id, ...params });
    return `${this.base}/PCCIS/V1${path}?${query}`;
  }

  async request(url, { signal, method = "GET", body, headers } = {}) {
    let response;
    try {
      response = await fetch(url, { signal, method, body, headers, credentials: "same-origin" });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError({ status: 0, reason: "The server cannot be reached" });
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async json(url, options) {
    return (await this.request(url, options)).json();
  }

  /** Page count and its confidence; answers once the confidence reaches `desiredConfidence`. */
  documentAttributes(desiredConfidence = 100, signal) {
    return this.json(this.url("/Document/q/Attributes", { DesiredPageCountConfidence: String(desiredConfidence) }),
      { signal });
  }

  pageAttributes(page, signal) {
    return this.json(this.url(`/Page/q/${page}/Attributes`, { ContentType: "svgb" }), { signal });
  }

  /** SVG of a page as a Blob, or {svgNotAvailable, pageAttributes} when the server only has raster content. */
  async pageSvg(page, signal) {
    const response = await this.content(`/Page/q/${page}`, { ContentType: "svgb" }, { signal, type: "image/svg+xml" });
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      const body = await response.json();
      if (body.errorCode === "SvgNotAvailable") return { svgNotAvailable: true, pageAttributes: body.pageAttributes };
      throw new ApiError({ status: response.status, errorCode: body.errorCode || "UnexpectedAnswer" });
    }
    return { blob: await response.blob() };
  }

  async pagePng(page, scale, signal) {
    const response = await this.content(`/Page/q/${page}`, { ContentType: "png", Scale: formatScale(scale) },
      { signal, type: "image/png" });
    return response.blob();
  }

  pngUrl(page, scale = 1) {
    return this.url(`/Page/q/${page}`, { ContentType: "png", Scale: formatScale(scale) });
  }

  async tile(page, x, y, width, height, scale, signal) {
    const response = await this.content(`/Page/q/${page}/Tile/${x}/${y}/${width}/${height}`,
      { ContentType: "png", Scale: formatScale(scale) }, { signal, type: "image/png" });
    return response.blob();
  }

  thumbnailUrl(page, width, height) {
    return this.url(`/Page/q/${page}/${Math.round(width)}x${Math.round(height)}`, { ContentType: "png" });
  }

  /** A thumbnail as a Blob (encrypted sessions: their thumbnails cannot be plain image URLs). */
  async thumbnailBlob(page, width, height, signal) {
    const response = await this.content(`/Page/q/${page}/${Math.round(width)}x${Math.round(height)}`,
      { ContentType: "png" }, { signal, type: "image/png" });
    return response.blob();
  }

  /** Text, glyph rectangles and hyperlinks of pages first..last (zero-based, inclusive). */
  async text(first, last, signal) {
    const response = await this.content(`/Document/q/${first}-${last}/Text`, {}, { signal, type: "application/json" });
    const body = await response.json();
    return Array.isArray(body.pages) ? body.pages : [];
  }

  /** GET ViewingSession/u{id}/Attachments: {status, attachments: [{displayName, viewingSessionId}]} */
  attachments(signal) {
    return this.json(`${this.base}/PCCIS/V1/ViewingSession/u${encodeURIComponent(this.id)}/Attachments`, { signal });
  }

  sourceFileUrl(filename) {
    const query = filename ? `?${new URLSearchParams({ ContentDispositionFilename: filename })}` : "";
    return `${this.base}/PCCIS/V1/ViewingSession/u${encodeURIComponent(this.id)}/SourceFile${query}`;
  }

  /** A new session on the same document with this password; answers its viewingSessionId. */
  async replaceWithPassword(password) {
    const body = await this.json(`${this.base}/PCCIS/V1/ViewingSession/u${encodeURIComponent(this.id)}/Replacement`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password }),
    });
    return body.viewingSessionId;
  }

  revisionData(continueToken, signal) {
    const query = continueToken ? `?${new URLSearchParams({ continueToken })}` : "";
    return this.json(`${this.base}/v2/viewingSessions/${encodeURIComponent(this.id)}/revisionData${query}`, { signal });
  }
}

function formatScale(scale) {
  return String(Math.round(scale * 10000) / 10000);
}
