/**
 * The admin panel's JSON endpoints as an OpenAPI 3.1 document, each with its authentication: a
 * session cookie from `POST <base>/api/login`, and on every POST the session's CSRF token in
 * `X-CSRF-Token`.
 *
 * @example
 * ```ts
 * import { adminOpenApi } from "./openapi.ts";
 * Object.keys(adminOpenApi("/admin").paths); // ["/admin/api/login", …]
 * ```
 *
 * @module
 */

/** One admin endpoint: method, path under `<base>/api`, and what it does. */
export interface AdminEndpoint {
  /** HTTP method. */
  readonly method: "get" | "post";
  /** Path after `<base>/api`. */
  readonly path: string;
  /** One line on what it does. */
  readonly summary: string;
  /** Body fields of a POST (JSON object or form), name → description. */
  readonly fields?: Readonly<Record<string, string>>;
}

/** Every JSON endpoint of the admin panel. */
export const ADMIN_ENDPOINTS: readonly AdminEndpoint[] = [
  {
    method: "post",
    path: "/login",
    summary: "Sign in; sets the session cookie, returns the CSRF token",
    fields: { password: "the admin password" },
  },
  { method: "post", path: "/logout", summary: "Sign out" },
  { method: "get", path: "/session", summary: "The session's CSRF token and expiry" },
  {
    method: "get",
    path: "/connections",
    summary: "Every live connection, uncensored (?q= filter, ?sort= key, -key descending)",
  },
  { method: "get", path: "/workers/{name}", summary: "One worker's live connections and blocks" },
  { method: "get", path: "/bans", summary: "Bans in force with reason, rule and expiry" },
  { method: "get", path: "/blocks", summary: "The block journal with the node's answers" },
  { method: "get", path: "/blocks/{hash}/raw", summary: "A journaled block's raw hex" },
  {
    method: "get",
    path: "/health",
    summary: "Node, ZMQ and template feed health with recent errors",
  },
  {
    method: "get",
    path: "/config",
    summary: "The effective configuration, secrets redacted, overrides marked",
  },
  { method: "get", path: "/overrides", summary: "The runtime overrides in force" },
  { method: "get", path: "/audit", summary: "The audit log, newest first (?limit=)" },
  {
    method: "post",
    path: "/kick",
    summary: "Close a connection",
    fields: { id: "connection id", message: "told to the miner first" },
  },
  {
    method: "post",
    path: "/ban",
    summary: "Ban a worker, address or IP and close its connections",
    fields: {
      kind: "worker | address | ip",
      value: "what to ban",
      seconds: "duration",
      reason: "shown to the miner",
    },
  },
  { method: "post", path: "/unban", summary: "Lift a ban", fields: { key: "the ban's key" } },
  {
    method: "post",
    path: "/message",
    summary: "client.show_message to one connection or all",
    fields: { id: "connection id (empty: all)", text: "the message" },
  },
  {
    method: "post",
    path: "/floor",
    summary: "Set or lift a worker's difficulty floor",
    fields: { worker: "worker name", difficulty: "floor (empty: lift)" },
  },
  {
    method: "post",
    path: "/resubmit",
    summary: "Send a journaled block to the node again",
    fields: { hash: "block hash" },
  },
  {
    method: "post",
    path: "/overrides",
    summary: "Set or clear runtime overrides (empty value clears)",
    fields: {
      targetSharesPerMinute: "",
      minDifficulty: "",
      maxDifficulty: "",
      messagesPerMinute: "",
      acceptRatePerSecond: "",
      maxConnectionsPerIp: "",
      exempt: "comma separated CIDRs",
      poolTag: "",
    },
  },
];

/** The OpenAPI document of the admin endpoints under `base`. */
export function adminOpenApi(
  base: string,
): Record<string, unknown> & { paths: Record<string, unknown> } {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of ADMIN_ENDPOINTS) {
    const path = `${base}/api${e.path}`;
    const isLogin = e.path === "/login";
    const op: Record<string, unknown> = {
      summary: e.summary,
      security: isLogin
        ? []
        : e.method === "post"
        ? [{ adminSession: [], csrfToken: [] }]
        : [{ adminSession: [] }],
      responses: {
        "200": { description: "OK (JSON)" },
        ...(isLogin
          ? { "429": { description: "Too many sign-in attempts (Retry-After)" } }
          : { "401": { description: "No session (plain text)" } }),
        ...(e.method === "post" && !isLogin
          ? { "403": { description: "Missing or wrong CSRF token" } }
          : {}),
        "400": { description: "Bad input (plain text)" },
      },
    };
    if (e.fields) {
      op.requestBody = {
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: Object.fromEntries(
                Object.entries(e.fields).map(([k, d]) => [k, { type: "string", description: d }]),
              ),
            },
          },
        },
      };
    }
    (paths[path] ??= {})[e.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "denopool admin API", version: "1" },
    components: {
      securitySchemes: {
        adminSession: { type: "apiKey", in: "cookie", name: "denopool_admin" },
        csrfToken: { type: "apiKey", in: "header", name: "X-CSRF-Token" },
      },
    },
    paths,
  };
}
