/**
 * Polling waits for tests: a condition the code under test makes true on its own time (a timer, a
 * socket, another process) is checked until it holds or a deadline passes.
 *
 * @module
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks `check` every `intervalMs` until it returns true; throws `timed out waiting for <what>`
 * after `timeoutMs`. The check runs once more at the deadline, so a slow machine that wakes late
 * still sees a condition that came true in time.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
