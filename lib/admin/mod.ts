/**
 * The admin panel's pieces that need no pool: password hashes, sessions with CSRF tokens, the
 * port the routes read and act through, and its OpenAPI description.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./mod.ts";
 * const stored = await hashPassword("a long admin password", 1000);
 * await verifyPassword("a long admin password", stored); // true
 * ```
 *
 * @module
 */

export * from "./openapi.ts";
export * from "./password.ts";
export * from "./port.ts";
export * from "./sessions.ts";
