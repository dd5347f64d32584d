import { createSocket, type Socket } from "node:dgram";

/** A UDP socket on loopback that keeps every datagram it receives. */
export class UdpListener {
  readonly datagrams: string[] = [];
  #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("message", (data) => this.datagrams.push(data.toString()));
  }

  /** Binds to 127.0.0.1 on an ephemeral port. */
  static async open(): Promise<UdpListener> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => resolve());
    });
    return new UdpListener(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** Every line of every datagram, in arrival order. */
  get lines(): string[] {
    return this.datagrams.flatMap((datagram) => datagram.split("\n"));
  }

  /** Waits until the lines satisfy a condition, or fails after a while. */
  async waitFor(
    condition: (lines: string[]) => boolean,
    timeoutMs = 3000,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this.lines)) {
      if (Date.now() > deadline) {
        throw new Error(
          `Cannot see the expected StatsD lines: got ${this.lines.length} line(s)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.lines;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** One DogStatsD line taken apart. */
export interface StatsdLine {
  name: string;
  value: number;
  type: string;
  tags: Record<string, string>;
}

/**
 * Parses `name:value|type|#k:v,k:v`; a tag value may hold `:`, so each tag
 * is split at its first colon.
 */
export function parseStatsdLine(line: string): StatsdLine {
  const match = /^([A-Za-z0-9_.]+):(-?[0-9.]+)\|(c|g|ms|h)(?:\|#(.*))?$/.exec(
    line,
  );
  if (!match) throw new Error(`Cannot parse StatsD line: "${line}"`);
  const tags: Record<string, string> = {};
  for (const tag of match[4]?.split(",") ?? []) {
    const colon = tag.indexOf(":");
    tags[tag.slice(0, colon)] = tag.slice(colon + 1);
  }
  return {
    name: match[1]!,
    value: Number(match[2]),
    type: match[3]!,
    tags,
  };
}
