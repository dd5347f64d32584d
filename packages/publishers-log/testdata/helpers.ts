/**
 * Test helpers: a writable stream whose writes stay pending until the test
 * releases them, and a small timing probe.
 *
 * @module
 */

/** A writable stream under the test's control. */
export interface ControlledStream {
  readonly stream: WritableStream<Uint8Array>;
  /** How many writes the stream has started. */
  readonly started: number;
  /** Lets every pending and future write finish. */
  release(): void;
  /** The text of the writes that finished. */
  text(): string;
}

/**
 * Makes a stream whose writes wait until {@linkcode ControlledStream.release}.
 *
 * @param stalled Whether writes wait at first.
 * @returns The stream and its controls.
 */
export function controlledStream(stalled = true): ControlledStream {
  const chunks: Uint8Array[] = [];
  const gate = Promise.withResolvers<void>();
  if (!stalled) gate.resolve();
  let started = 0;
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      started++;
      await gate.promise;
      chunks.push(chunk.slice());
    },
  });
  const decoder = new TextDecoder();
  return {
    stream,
    get started() {
      return started;
    },
    release: () => gate.resolve(),
    text: () => chunks.map((chunk) => decoder.decode(chunk)).join(""),
  };
}

/**
 * Tells whether a promise settles within a time limit, clearing its timer.
 *
 * @param promise The promise.
 * @param ms The limit.
 * @returns Whether it settled (resolved or rejected) in time.
 */
export async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Lists the characters of a text that could break a line or drive a
 * terminal: C0 and C1 controls, DEL, the Unicode line separators and the
 * bidirectional overrides.
 *
 * @param text The text.
 * @returns The offending characters, as code points in hexadecimal.
 */
export function unsafeChars(text: string): string[] {
  const found: string[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (
      code < 0x20 || (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 || code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      (code >= 0x200b && code <= 0x200f) || code === 0x061c || code === 0xfeff
    ) {
      found.push(code.toString(16));
    }
  }
  return found;
}
