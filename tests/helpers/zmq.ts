/**
 * Test-side zeromq hygiene.
 *
 * @module
 */

/**
 * Closes a zeromq socket, then gives its native side a moment to let go of it. Tests run file by
 * file in one process, and a socket still busy in native code when its file's JS realm is torn
 * down can take the whole test process with it.
 */
export async function closeZmq(socket: { close(): void }): Promise<void> {
  socket.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
}
