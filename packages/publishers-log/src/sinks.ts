import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { LineSink } from "./line_buffer.ts";

/** Something bytes can be written to, a part at a time. */
interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Joins lines into one buffer for a single write.
 *
 * @param lines The lines.
 * @returns Their bytes, one after the other.
 */
export function concatLines(lines: readonly Uint8Array[]): Uint8Array {
  if (lines.length === 1) return lines[0] as Uint8Array;
  let size = 0;
  for (const line of lines) size += line.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const line of lines) {
    out.set(line, offset);
    offset += line.length;
  }
  return out;
}

async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await writer.write(bytes.subarray(offset));
  }
}

/**
 * Every publisher in this process that writes to the same standard stream
 * queues behind the same tail, so a line is never split by another's.
 */
const stdioTails = new Map<"stdout" | "stderr", Promise<unknown>>();

/**
 * A sink for the process's standard output or error. Writes are
 * asynchronous and closing leaves the stream open.
 *
 * @param target Which stream.
 * @returns The sink.
 */
export function stdioSink(target: "stdout" | "stderr"): LineSink {
  const stream = target === "stdout" ? Deno.stdout : Deno.stderr;
  return {
    write(lines) {
      const bytes = concatLines(lines);
      const previous = stdioTails.get(target) ?? Promise.resolve();
      const done = previous.then(() => writeAll(stream, bytes));
      const tail = done.catch(() => {});
      stdioTails.set(target, tail);
      void tail.then(() => {
        if (stdioTails.get(target) === tail) stdioTails.delete(target);
      });
      return done;
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A sink over a caller's writable stream. It holds the stream's lock while
 * open and releases it on close, leaving the stream itself open: the caller
 * owns it.
 *
 * @param writable The stream.
 * @returns The sink.
 * @throws {TypeError} If the stream is already locked.
 */
export function streamSink(writable: WritableStream<Uint8Array>): LineSink {
  const writer = writable.getWriter();
  return {
    async write(lines) {
      await writer.write(concatLines(lines));
    },
    close() {
      writer.releaseLock();
      return Promise.resolve();
    },
  };
}

/** Where and how big the log files get. */
export interface FileSinkOptions {
  readonly path: string;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
}

/**
 * A sink that appends to a file and rotates it: when the next line would
 * make it larger than `maxFileBytes`, `app.log` becomes `app.log.1`, the
 * older ones shift up by one, the oldest beyond `maxFiles` is removed, and
 * a new `app.log` is started. A line is never split across two files.
 */
export class FileSink implements LineSink {
  #options: FileSinkOptions;
  #file: Deno.FsFile;
  #size: number;
  #open = true;

  private constructor(
    options: FileSinkOptions,
    file: Deno.FsFile,
    size: number,
  ) {
    this.#options = options;
    this.#file = file;
    this.#size = size;
  }

  /**
   * Creates the parent directory and opens the file for appending.
   *
   * @param options The absolute path and the rotation limits.
   * @returns The open sink.
   * @throws {Error} If the directory or the file cannot be opened.
   */
  static async open(options: FileSinkOptions): Promise<FileSink> {
    try {
      await mkdir(dirname(options.path), { recursive: true });
      const file = await Deno.open(options.path, {
        append: true,
        create: true,
      });
      const { size } = await file.stat();
      return new FileSink(options, file, size);
    } catch (error) {
      const reason = reasonOf(error);
      throw new Error(`Cannot open log file "${options.path}": ${reason}`, {
        cause: error,
      });
    }
  }

  /**
   * Appends lines, rotating before a line that would not fit.
   *
   * @param lines The lines.
   * @returns Resolves once they are written.
   */
  async write(lines: readonly Uint8Array[]): Promise<void> {
    const { maxFileBytes } = this.#options;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (const line of lines) {
      const size = this.#size + batchBytes;
      if (size > 0 && size + line.length > maxFileBytes) {
        await this.#append(batch, batchBytes);
        batch = [];
        batchBytes = 0;
        await this.#rotate();
      }
      batch.push(line);
      batchBytes += line.length;
    }
    await this.#append(batch, batchBytes);
  }

  /**
   * Closes the file.
   *
   * @returns Resolves once it is closed.
   */
  close(): Promise<void> {
    if (this.#open) this.#file.close();
    this.#open = false;
    return Promise.resolve();
  }

  async #append(lines: Uint8Array[], bytes: number): Promise<void> {
    if (lines.length === 0) return;
    await writeAll(this.#file, concatLines(lines));
    this.#size += bytes;
  }

  async #rotate(): Promise<void> {
    const { path, maxFiles } = this.#options;
    this.#file.close();
    this.#open = false;

    try {
      if (maxFiles === 0) {
        await Deno.remove(path).catch(ignoreNotFound);
      } else {
        await Deno.remove(`${path}.${maxFiles}`).catch(ignoreNotFound);
        for (let index = maxFiles - 1; index >= 1; index--) {
          await Deno.rename(`${path}.${index}`, `${path}.${index + 1}`)
            .catch(ignoreNotFound);
        }
        await Deno.rename(path, `${path}.1`).catch(ignoreNotFound);
      }
    } finally {
      // Even when a rename failed, keep appending to the current file.
      this.#file = await Deno.open(path, { append: true, create: true });
      this.#open = true;
      this.#size = (await this.#file.stat()).size;
    }
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

/**
 * Names why a file operation failed: Deno's error class (`PermissionDenied`,
 * `NotFound`), or for Node-style errors their code (`ENOTDIR`).
 */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  const code = (error as { code?: unknown }).code;
  if (error.name === "Error" && typeof code === "string") return code;
  return error.name;
}
