import {
  createMessage,
  isRawJson,
  type JsonValue,
  type Message,
  parseJson,
} from "@fanout/core";
import { basename } from "node:path";

const REPOS = ["acme/api", "acme/web", "acme/infra", "octo/tools"];
const USERS = ["ada", "grace", "linus", "margaret", "ken"];
const BRANCHES = ["main", "release/2.4", "feature/search", "fix/login"];

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

/**
 * Makes the simulated producer's n-th event: a mix of repository, order
 * and sensor events with nested bodies, the same for the same n.
 *
 * @param n The event's number.
 * @returns The message.
 */
export function simulatedEvent(n: number): Message {
  const kind = n % 5;
  const id = `sim-${String(n).padStart(5, "0")}`;
  const headers = { source: "simulator" };
  if (kind === 0 || kind === 3) {
    return createMessage({
      id,
      type: "push",
      headers,
      body: {
        repository: { full_name: pick(REPOS, n), private: n % 2 === 0 },
        ref: `refs/heads/${pick(BRANCHES, n)}`,
        pusher: { name: pick(USERS, n) },
        commits: Array.from({ length: 1 + (n % 3) }, (_, i) => ({
          id: (n * 7919 + i).toString(16).padStart(12, "0"),
          message: `Change ${n}.${i}`,
          added: [`src/file_${i}.ts`],
        })),
      },
    });
  }
  if (kind === 1) {
    return createMessage({
      id,
      type: "pull_request",
      headers,
      body: {
        action: pick(["opened", "synchronize", "closed"], n),
        number: 100 + n,
        pull_request: {
          title: `Improve part ${n}`,
          user: { login: pick(USERS, n + 1) },
          additions: (n * 13) % 400,
          deletions: (n * 7) % 120,
          labels: [{ name: "review" }],
        },
        repository: { full_name: pick(REPOS, n + 1) },
      },
    });
  }
  if (kind === 2) {
    return createMessage({
      id,
      type: "order.created",
      headers,
      body: {
        order: {
          number: 5000 + n,
          total: { amount: ((n * 37) % 500) + 0.99, currency: "EUR" },
          lines: [{ sku: `SKU-${n % 40}`, quantity: 1 + (n % 4) }],
        },
        customer: { country: pick(["DE", "FR", "NL", "SE"], n) },
      },
    });
  }
  return createMessage({
    id,
    type: "sensor.reading",
    headers,
    body: {
      sensor: { id: `s-${n % 12}`, site: pick(["north", "south"], n) },
      celsius: 18 + ((n * 11) % 90) / 10,
    },
  });
}

/**
 * A line of a JSON lines input file turned into a message, or the reason it
 * could not be.
 *
 * @since 0.1.0
 */
export type InputLine =
  | { ok: true; message: Message }
  | { ok: false; place: string; text: string; reason: string };

/**
 * Reads a JSON lines file line by line: one JSON object a line; its `id`
 * field is the message id (a string, or a number written as it stands), else
 * the file name and line number, so that a replay reuses it; its `type`
 * field is the message type. Blank lines and a leading byte order mark are
 * skipped.
 *
 * @param path The file.
 * @returns The lines, in order, each a message or a reason.
 */
export async function* readInput(path: string): AsyncGenerator<InputLine> {
  const name = basename(path);
  using file = await Deno.open(path);
  let lineNumber = 0;
  for await (const line of lines(file.readable)) {
    lineNumber++;
    const text = lineNumber === 1 ? line.replace(/^\uFEFF/, "") : line;
    if (text.trim() === "") continue;
    const place = `${name}:${lineNumber}`;
    let body: JsonValue;
    try {
      body = parseJson(text);
    } catch (error) {
      yield {
        ok: false,
        place,
        text,
        reason: `invalid JSON: ${(error as Error).message}`,
      };
      continue;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      yield { ok: false, place, text, reason: "expected a JSON object" };
      continue;
    }
    const record = body as Record<string, JsonValue>;
    const id = typeof record.id === "string" && record.id !== ""
      ? record.id
      : typeof record.id === "number" || isRawJson(record.id)
      ? JSON.stringify(record.id)
      : place;
    const type = typeof record.type === "string" && record.type !== ""
      ? record.type
      : "event";
    yield {
      ok: true,
      message: createMessage({ id, type, body, headers: { source: place } }),
    };
  }
}

/** Splits a byte stream into lines without holding the whole file. */
async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts.map((part) => part.replace(/\r$/, ""));
  }
  if (rest !== "") yield rest.replace(/\r$/, "");
}
