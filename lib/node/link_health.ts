/**
 * Up/down state of a link to the node (the RPC connection, the ZMQ subscription) and its transition
 * counts, as `/api/server` shows them.
 *
 * @module
 */

/**
 * Whether a link is up, and how often it went down and came back. Starts down; the first time it
 * comes up is not a reconnect.
 */
export class LinkHealth {
  #healthy = false;
  #everHealthy = false;
  #disconnects = 0;
  #reconnects = 0;

  /** True while the link is up. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Up → down transitions. */
  get disconnects(): number {
    return this.#disconnects;
  }

  /** Down → up transitions after the first time up. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Records the link as up or down; true when that flips the state (time to tell listeners). */
  set(healthy: boolean): boolean {
    if (healthy === this.#healthy) return false;
    this.#healthy = healthy;
    if (healthy) {
      if (this.#everHealthy) this.#reconnects++;
      this.#everHealthy = true;
    } else {
      this.#disconnects++;
    }
    return true;
  }
}
