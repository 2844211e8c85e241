// Runs page requests a few at a time, nearest to what the reader looks at first; a request whose page left
// the screen is dropped before it starts (and aborted by its owner if already running).

export class Scheduler {
  /** @param {number} concurrency  @param {() => number} focus  the page the reader is looking at */
  constructor(concurrency, focus) {
    this.concurrency = concurrency;
    this.focus = focus;
    this.running = 0;
    this.pending = [];
  }

  /**
   * Queue `task(signal)` for page `page`; resolves with its result.
   * @template T  @param {number} page  @param {AbortSignal} signal  @param {(signal: AbortSignal) => Promise<T>} task
   * @returns {Promise<T>}
   */
  run(page, signal, task) {
    return new Promise((resolve, reject) => {
      this.pending.push({ page, signal, task, resolve, reject });
      this.pump();
    });
  }

  pump() {
    this.dropAborted();
    while (this.running < this.concurrency && this.pending.length) {
      const item = this.takeNearest();
      if (item.signal?.aborted) {
        item.reject(new DOMException("The page left the screen", "AbortError"));
        continue;
      }
      this.running += 1;
      Promise.resolve()
        .then(() => item.task(item.signal))
        .then(item.resolve, item.reject)
        .finally(() => { this.running -= 1; this.pump(); });
    }
  }

  dropAborted() {
    const kept = [];
    for (const item of this.pending) {
      if (item.signal?.aborted) item.reject(new DOMException("The page left the screen", "AbortError"));
      else kept.push(item);
    }
    this.pending = kept;
  }

  takeNearest() {
    const focus = this.focus();
    let best = 0;
    for (let i = 1; i < this.pending.length; i++) {
      if (Math.abs(this.pending[i].page - focus) < Math.abs(this.pending[best].page - focus)) best = i;
    }
    return this.pending.splice(best, 1)[0];
  }
}
