/**
 * The one interface every notification channel implements (ntfy, Telegram, webhook, Discord):
 * what to send for a notice, and how to send one of those. The hub (`hub.ts`) gives each channel
 * its own queue; a channel never sees another's.
 *
 * @module
 */

import type { Notice } from "./events.ts";

/** A notification channel: turns notices into payloads and delivers one payload. */
export interface NotifyChannel<P> {
  /** Short name: the queue's name in the store, logs and metrics (`ntfy`, `telegram`, …). */
  readonly name: string;
  /**
   * What to send for `notice`: one payload per target (the pool's own target for pool notices, the
   * user's for user notices); none when this channel has nowhere to send it. Payloads are stored
   * while queued, so they are plain data and hold no secret of the operator.
   */
  prepare(notice: Notice): Promise<readonly P[]>;
  /** Delivers one payload; rejects with a `DeliveryError` saying whether a retry may help. */
  send(payload: P, signal: AbortSignal): Promise<void>;
  /** Users who have a target on this channel (the saved-worker watch looks at theirs). */
  users(): Promise<Iterable<string>>;
}
