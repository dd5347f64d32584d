import type { Message } from "./message.ts";

/**
 * A message handed out by a {@linkcode Source}, to be settled exactly once.
 *
 * @since 0.1.0
 */
export interface Delivery {
  /** The message. */
  readonly message: Message;
  /**
   * Tells the source the message is done with: delivered, or recorded as a
   * dead letter.
   */
  ack(): Promise<void>;
  /**
   * Gives the message back for another worker or a later attempt.
   *
   * @param reason Why it was not finished.
   * @returns Whether the source kept it. A source that cannot keep it
   * (such as an in-memory queue that is shutting down) returns `false`, and
   * the caller must record it as a dead letter instead.
   */
  nack(reason: unknown): Promise<boolean>;
}

/**
 * Where a consumer takes messages from.
 *
 * @since 0.1.0
 */
export interface Source {
  /**
   * Waits for the next message.
   *
   * @param options An abort signal that stops the wait.
   * @returns The next delivery, or `undefined` once the source is closed
   * and has nothing left.
   */
  receive(options?: { signal?: AbortSignal }): Promise<Delivery | undefined>;
  /** Stops taking new messages; those already taken can still be received. */
  close(): Promise<void>;
}
