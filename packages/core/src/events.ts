/**
 * Something that happened to a message on its way to a destination. Core
 * emits these; other packages turn them into log lines or metric series.
 *
 * Per destination, `received` = `delivered` + `dead-lettered` + `dropped` +
 * the messages still in flight.
 *
 * @since 0.1.0
 */
export type FanOutEvent =
  | {
    readonly type: "received";
    readonly destination: string;
    readonly messageId: string;
  }
  | {
    readonly type: "delivered";
    readonly destination: string;
    readonly messageId: string;
    readonly attempts: number;
    /** From the first attempt's start to success. */
    readonly durationMs: number;
  }
  | {
    readonly type: "retried";
    readonly destination: string;
    readonly messageId: string;
    /** The attempt that failed, counting from 1. */
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: unknown;
  }
  | {
    /** A required destination gave up; the message goes to the dead letters. */
    readonly type: "dead-lettered";
    readonly destination: string;
    readonly messageId: string;
    readonly attempts: number;
    readonly error: unknown;
  }
  | {
    /** A best-effort destination gave up; its policy drops the message there. */
    readonly type: "dropped";
    readonly destination: string;
    readonly messageId: string;
    readonly attempts: number;
    readonly error: unknown;
  }
  | {
    readonly type: "queue-depth";
    readonly depth: number;
    readonly capacity: number;
  };

/**
 * A function that observes {@linkcode FanOutEvent}s.
 *
 * @since 0.1.0
 */
export type FanOutListener = (event: FanOutEvent) => void;

/**
 * Where listeners subscribe to events.
 *
 * @since 0.1.0
 */
export interface FanOutEvents {
  /**
   * Adds a listener.
   *
   * @param listener Called with every event, synchronously.
   * @returns A function that removes the listener.
   */
  subscribe(listener: FanOutListener): () => void;
}

/**
 * Delivers events to listeners. A listener that throws is reported to
 * `onListenerError` and never disturbs delivery or the other listeners.
 *
 * @example Count deliveries
 * ```ts
 * import { EventHub } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const hub = new EventHub();
 * let delivered = 0;
 * hub.subscribe((event) => {
 *   if (event.type === "delivered") delivered++;
 * });
 * hub.emit({ type: "delivered", destination: "db", messageId: "m1", attempts: 1, durationMs: 2 });
 * assert.equal(delivered, 1);
 * ```
 *
 * @since 0.1.0
 */
export class EventHub implements FanOutEvents {
  #listeners = new Set<FanOutListener>();
  #onListenerError: (error: unknown, event: FanOutEvent) => void;

  /**
   * Makes a hub.
   *
   * @param onListenerError Told of each error a listener throws.
   */
  constructor(
    onListenerError: (error: unknown, event: FanOutEvent) => void = () => {},
  ) {
    this.#onListenerError = onListenerError;
  }

  /**
   * Adds a listener.
   *
   * @param listener Called with every event.
   * @returns A function that removes it.
   */
  subscribe(listener: FanOutListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Hands an event to every listener.
   *
   * @param event The event.
   */
  emit(event: FanOutEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
