// The landing page: a file dropped or chosen becomes a viewing session (create, upload with progress,
// SessionStarted), then the browser goes to the viewer on it.

const $ = (id) => document.getElementById(id);
const API = "PCCIS/V1/ViewingSession";  // relative: works behind a proxy that adds a path prefix

/** The FileExtension parameter from a file name: letters and digits only, or nothing. */
export function extensionOf(name) {
  const match = /\.([A-Za-z0-9]{1,12})$/.exec(name || "");
  return match ? match[1].toLowerCase() : "";
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

class UploadError extends Error {
  constructor(title, text) {
    super(text);
    this.title = title;
  }
}

/** Turns a failed answer (fetch Response or XHR) into words for a person. */
function explain(status, reason, statusMessage, body) {
  let detail = "";
  try {
    const json = JSON.parse(body || "");
    detail = json.errorDetails?.message || json.errorCode || "";
  } catch { /* not JSON */ }
  if (status === 580 && /unrecognized file format/i.test(statusMessage)) {
    return new UploadError("This file's format is not supported",
      "pageturn could not recognise it (Unrecognized File Format). Try a PDF, an Office document or an image.");
  }
  if (status === 413) return new UploadError("This file is too large", detail || "The server does not accept files this big.");
  if (status === 0) return new UploadError("The server cannot be reached", "Check your connection and try again.");
  return new UploadError("The file could not be opened", statusMessage || detail || reason || `The server answered ${status}.`);
}

async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    throw explain(0);
  }
  const text = await response.text();
  if (!response.ok) {
    throw explain(response.status, response.statusText, response.headers.get("Accusoft-Status-Message") || "", text);
  }
  return text ? JSON.parse(text) : {};
}

/** PUT the file with XMLHttpRequest: fetch cannot report upload progress. */
function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(explain(xhr.status, xhr.statusText, xhr.getResponseHeader("Accusoft-Status-Message") || "", xhr.responseText));
    };
    xhr.onerror = () => reject(explain(0));
    xhr.send(file);
  });
}

class Landing {
  constructor() {
    this.busy = false;
    this.zone = $("dropzone");
    this.input = $("file-input");
    this.input.addEventListener("change", () => { if (this.input.files[0]) this.open(this.input.files[0]); });
    $("try-again").addEventListener("click", () => this.reset(true));
    // the whole window takes the drop: aiming at the box is not required
    let depth = 0;
    window.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      this.zone.classList.add("dragging");
    });
    window.addEventListener("dragover", (event) => { if (hasFiles(event)) event.preventDefault(); });
    window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) this.zone.classList.remove("dragging"); });
    window.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      this.zone.classList.remove("dragging");
      const file = event.dataTransfer.files[0];
      if (file) this.open(file);
    });
  }

  reset(focus) {
    this.busy = false;
    this.input.value = "";
    $("failure").hidden = true;
    $("status").hidden = true;
    this.zone.hidden = false;
    if (focus) this.input.focus();
  }

  step(text, progress) {
    $("status-text").textContent = text;
    const bar = $("status-progress");
    bar.classList.toggle("indeterminate", progress === null);
    $("status-bar").style.width = progress === null ? "" : `${Math.round(progress * 100)}%`;
  }

  async open(file) {
    if (this.busy) return;
    this.busy = true;
    this.zone.hidden = true;
    $("failure").hidden = true;
    $("status").hidden = false;
    $("status-name").textContent = file.name;
    $("status-size").textContent = formatSize(file.size);
    try {
      this.step("Creating a viewing session…", null);
      const { viewingSessionId: id } = await postJson(API, {});
      const session = `${API}/u${encodeURIComponent(id)}`;
      const extension = extensionOf(file.name);
      const query = extension ? `?${new URLSearchParams({ FileExtension: extension })}` : "";
      this.step("Uploading… 0%", 0);
      await upload(`${session}/SourceFile${query}`, file, (fraction) => {
        this.step(fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : "Checking the file…",
          fraction < 1 ? fraction : null);
      });
      this.step("Starting the conversion…", null);
      await postJson(`${session}/Notification/SessionStarted`, { viewer: "HTML5" });
      try { sessionStorage.setItem(`pageturn:name:${id}`, file.name); } catch { /* a nicety only */ }
      this.step("Opening the viewer…", 1);
      location.assign(`viewer/${encodeURIComponent(id)}`);
    } catch (error) {
      this.fail(error);
    }
  }

  fail(error) {
    this.busy = false;
    $("status").hidden = true;
    $("failure").hidden = false;
    $("failure-title").textContent = error.title || "The file could not be opened";
    $("failure-text").textContent = error.message;
    $("try-again").focus();
  }
}

function hasFiles(event) {
  return Array.from(event.dataTransfer?.types || []).includes("Files");
}

window.pageturnLanding = new Landing();
