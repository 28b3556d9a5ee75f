/**
 * The Discord message queue: one message at a time, at least `minIntervalMs` apart, at most
 * `maxQueued` waiting (later ones are dropped and counted, never blocking the pool). A message that
 * fails after the client's own retries is dropped and counted too. It is `lib/notify`'s
 * {@linkcode NoticeQueue} in memory, with one try per message and Discord's 2000-character cut; the
 * pool itself queues Discord notices through the hub (persisted) and uses this only where a bare
 * Discord queue is wanted.
 *
 * @module
 */

import { NoticeQueue } from "../notify/mod.ts";

/** One message for the notice channel. */
export interface OutgoingMessage {
  /** Text (cut to 2000 characters, Discord's limit). */
  readonly content: string;
  /** Users that may be pinged. */
  readonly mentionUserIds: readonly string[];
}

/** Options of {@linkcode MessageQueue}. */
export interface MessageQueueOptions {
  /** Sends one message. */
  readonly send: (message: OutgoingMessage) => Promise<void>;
  /** Least time between two sends, ms (default 2 s). */
  readonly minIntervalMs?: number;
  /** Most messages waiting (default 50). */
  readonly maxQueued?: number;
  /** Error sink (default: ignored). */
  readonly onError?: (error: unknown) => void;
}

/** Rate-limited FIFO of outgoing messages. */
export class MessageQueue {
  readonly #queue: NoticeQueue<OutgoingMessage>;

  /** A queue in front of `send`. */
  constructor(options: MessageQueueOptions) {
    this.#queue = new NoticeQueue<OutgoingMessage>({
      channel: "discord",
      send: (m) => options.send(m),
      minIntervalMs: options.minIntervalMs ?? 2_000,
      maxQueued: options.maxQueued ?? 50,
      maxAttempts: 1,
      // The REST client waits out rate limits itself; the queue only guards against a hang.
      timeoutMs: 5 * 60_000,
      onError: options.onError,
    });
  }

  /** Messages sent. */
  get sent(): number {
    return this.#queue.sent;
  }

  /** Messages dropped (queue full, send failed, or waiting at stop). */
  get dropped(): number {
    return this.#queue.dropped + this.#queue.failed;
  }

  /** Queues a message; false when it was dropped because the queue is full or stopped. */
  enqueue(message: OutgoingMessage): boolean {
    const content = message.content.length > 2000
      ? message.content.slice(0, 1999) + "…"
      : message.content;
    return this.#queue.enqueue({ ...message, content });
  }

  /** Messages waiting. */
  get size(): number {
    return this.#queue.size;
  }

  /** Resolves when everything queued so far has been sent or dropped. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Drops what is waiting (counted) and refuses new messages; a send in flight is cut short. */
  stop(): Promise<void> {
    return this.#queue.stop();
  }
}
