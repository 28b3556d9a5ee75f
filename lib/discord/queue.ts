/**
 * The outgoing message queue: one message at a time, at least `minIntervalMs` apart, at most
 * `maxQueued` waiting (later ones are dropped and counted, never blocking the pool). A message that
 * fails after the client's own retries is dropped and counted too.
 *
 * @module
 */

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
  readonly #o: Required<MessageQueueOptions>;
  readonly #queue: OutgoingMessage[] = [];
  #running: Promise<void> | undefined;
  #lastSend = Number.NEGATIVE_INFINITY;
  #stopped = false;
  /** Messages sent. */
  sent = 0;
  /** Messages dropped (queue full or send failed). */
  dropped = 0;

  /** A queue in front of `send`. */
  constructor(options: MessageQueueOptions) {
    this.#o = { minIntervalMs: 2_000, maxQueued: 50, onError: () => {}, ...options };
  }

  /** Queues a message; false when it was dropped because the queue is full or stopped. */
  enqueue(message: OutgoingMessage): boolean {
    if (this.#stopped || this.#queue.length >= this.#o.maxQueued) {
      this.dropped++;
      return false;
    }
    const content = message.content.length > 2000
      ? message.content.slice(0, 1999) + "…"
      : message.content;
    this.#queue.push({ ...message, content });
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
    return true;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#queue.length;
  }

  /** Resolves when everything queued so far has been sent or dropped. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Drops what is waiting and refuses new messages; waits for a send in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.dropped += this.#queue.length;
    this.#queue.length = 0;
    await this.idle();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const wait = this.#lastSend + this.#o.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const message = this.#queue.shift();
      if (!message) break;
      this.#lastSend = Date.now();
      try {
        await this.#o.send(message);
        this.sent++;
      } catch (err) {
        this.dropped++;
        this.#o.onError(err);
      }
    }
  }
}
