import type { MessageRow } from "./rows.ts";

/**
 * What the publisher needs from one kind of database. Package-private: each
 * driver lives in its own file.
 */
export interface Backend {
  /** Creates the table when missing. */
  ensureTable(signal?: AbortSignal): Promise<void>;
  /**
   * Writes rows in one statement, or one transaction when they must be
   * split; a row whose id is already stored is skipped.
   */
  insert(rows: readonly MessageRow[], signal?: AbortSignal): Promise<void>;
  /** Whether the database refused the data itself, so retrying cannot help. */
  isDataError(error: unknown): boolean;
  /** Whether the error says the table does not exist. */
  isMissingTable(error: unknown): boolean;
  /** Adds driver details, such as PostgreSQL's `detail`, to a description. */
  describe(error: unknown): string;
  /** Ends every connection. */
  close(): Promise<void>;
}

/** The most rows one statement carries. */
export const MAX_ROWS_PER_STATEMENT = 500;

/** The most bytes of values one statement carries, unless a driver lowers it. */
export const MAX_BYTES_PER_STATEMENT = 8 * 1024 * 1024;

/**
 * Splits rows into groups small enough for one statement each.
 *
 * @param rows The rows.
 * @param maxBytes The most bytes a group may hold; a larger row goes alone.
 * @returns The groups, in order.
 */
export function chunkRows(
  rows: readonly MessageRow[],
  maxBytes: number = MAX_BYTES_PER_STATEMENT,
): MessageRow[][] {
  const chunks: MessageRow[][] = [];
  let current: MessageRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const full = current.length >= MAX_ROWS_PER_STATEMENT ||
      (current.length > 0 && bytes + row.bytes > maxBytes);
    if (full) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += row.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Waits for work, but rejects with the signal's reason as soon as it aborts,
 * after asking the work to stop through `onAbort`.
 *
 * @param work The pending work.
 * @param signal The caller's signal.
 * @param onAbort Stops the work, such as by cancelling a query.
 * @returns What the work returns.
 */
export async function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort?: () => void,
): Promise<T> {
  if (!signal) return await work;
  // The work may still fail after the caller stopped waiting for it.
  work.catch(() => {});
  if (signal.aborted) {
    onAbort?.();
    throw signal.reason;
  }
  let listener = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    listener = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", listener, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", listener);
  }
}

/** Reads a string field of an error-like value. */
export function field(error: unknown, name: string): unknown {
  if (typeof error !== "object" || error === null) return undefined;
  return (error as Record<string, unknown>)[name];
}

/** Quotes each part of a validated table name with the given quote mark. */
export function quoteTable(table: string, mark: string): string {
  return table.split(".").map((part) => `${mark}${part}${mark}`).join(".");
}

/**
 * Raised by a backend, before sending, for a row the database is known to
 * refuse; the publisher treats it like the database's own refusal.
 */
export class RowRefusedError extends Error {
  /** Marks the error as a refusal of the data. */
  readonly rowRefused = true;

  /**
   * Makes the error.
   *
   * @param message Why the row is refused.
   */
  constructor(message: string) {
    super(message);
    this.name = "RowRefusedError";
  }
}

/** Whether an error is a {@linkcode RowRefusedError}. */
export function isRowRefused(error: unknown): boolean {
  return field(error, "rowRefused") === true;
}
