/**
 * The host part of a `Host` header. Apart from `server.ts` so the pages (and the Deploy mirror's
 * module graph through them) do not pull in the listeners.
 *
 * @module
 */

const HOST_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;

/** The hostname part of a Host header (`[::1]` kept bracketed), or undefined when malformed. */
export function hostWithoutPort(host: string): string | undefined {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!match || match[1] === "" || !HOST_NAME.test(match[1])) return undefined;
  return match[1];
}
