/**
 * Free loopback ports for tests.
 *
 * @module
 */

/**
 * Asks the OS for a free TCP port on 127.0.0.1 and releases it at once. Another process could take
 * the port before the caller binds it; tests accept that small race.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
