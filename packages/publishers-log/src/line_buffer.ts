/** Where a {@linkcode LineBuffer} writes its lines. */
export interface LineSink {
  /**
   * Writes whole lines, in order. The buffer never calls it again before
   * the previous call settled.
   */
  write(lines: readonly Uint8Array[]): Promise<void>;
  /** Releases the sink once every line is written. */
  close(): Promise<void>;
}

interface Waiter {
  readonly line: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Lines handed to the sink in one call are gathered up to this size. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/**
 * A bounded, ordered queue of lines in front of a slow sink. Lines are
 * accepted at once while the bytes not yet written stay within the
 * capacity; otherwise the caller waits its turn, first come first served.
 * One write is in flight at a time, so lines never interleave.
 */
export class LineBuffer {
  #sink: LineSink;
  #capacity: number;
  #onFailure: (error: unknown, lostLines: number) => void;
  #queue: Uint8Array[] = [];
  /** Bytes accepted and not yet written, including the write in flight. */
  #pending = 0;
  #waiters: Waiter[] = [];
  #writing = false;
  #failure: { error: unknown } | undefined;
  #idle: PromiseWithResolvers<void> | undefined;

  /**
   * Makes a buffer.
   *
   * @param sink Where lines go.
   * @param capacity The most bytes waiting at once; one longer line is
   * still taken when nothing else waits.
   * @param onFailure Told once when the sink fails, with how many accepted
   * lines were lost.
   */
  constructor(
    sink: LineSink,
    capacity: number,
    onFailure: (error: unknown, lostLines: number) => void,
  ) {
    this.#sink = sink;
    this.#capacity = capacity;
    this.#onFailure = onFailure;
  }

  /** Bytes accepted and not yet written. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** The sink's error, once a write has failed. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /**
   * Accepts a line, waiting for room when the buffer is full.
   *
   * @param line The line's bytes.
   * @param signal Cancels the wait; a line already accepted stays.
   * @returns Resolves once the line is accepted.
   * @throws The signal's reason when aborted, or the sink's error.
   */
  push(line: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#fits(line)) {
      this.#accept(line);
      return Promise.resolve();
    }

    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: Waiter = {
      line,
      resolve,
      reject,
      signal,
      onAbort: () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal?.reason);
        this.#admit();
        this.#settleIdle();
      },
    };
    signal?.addEventListener("abort", waiter.onAbort, { once: true });
    this.#waiters.push(waiter);
    return promise;
  }

  /**
   * Waits until every accepted and waiting line is written, or the sink
   * failed.
   *
   * @returns Resolves when nothing is left to write.
   */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  /**
   * Closes the sink; call after {@linkcode drain}.
   *
   * @returns Resolves once the sink is closed.
   */
  closeSink(): Promise<void> {
    return this.#sink.close();
  }

  #fits(line: Uint8Array): boolean {
    return this.#pending === 0 ||
      this.#pending + line.length <= this.#capacity;
  }

  #accept(line: Uint8Array): void {
    this.#queue.push(line);
    this.#pending += line.length;
    if (!this.#writing) void this.#pump();
  }

  #admit(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0] as Waiter;
      if (!this.#fits(next.line)) return;
      this.#waiters.shift();
      next.signal?.removeEventListener("abort", next.onAbort);
      this.#accept(next.line);
      next.resolve();
    }
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        let count = 0;
        let bytes = 0;
        while (
          count < this.#queue.length &&
          (count === 0 || bytes < WRITE_CHUNK_BYTES)
        ) {
          bytes += (this.#queue[count] as Uint8Array).length;
          count++;
        }
        const lines = this.#queue.splice(0, count);
        try {
          await this.#sink.write(lines);
        } catch (error) {
          this.#fail(error, lines.length);
          return;
        }
        this.#pending -= bytes;
        this.#admit();
      }
    } finally {
      this.#writing = false;
      this.#settleIdle();
    }
  }

  // TODO: a failed sink is never reopened, so a file on a disk that was full stays failed until the publisher is made again.
  #fail(error: unknown, inFlight: number): void {
    this.#failure = { error };
    const lost = inFlight + this.#queue.length;
    this.#queue = [];
    this.#pending = 0;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(error);
    }
    this.#onFailure(error, lost);
  }

  #isIdle(): boolean {
    return !this.#writing && this.#queue.length === 0 &&
      this.#waiters.length === 0;
  }

  #settleIdle(): void {
    if (this.#idle && this.#isIdle()) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
  }
}
