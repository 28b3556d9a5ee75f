/**
 * The admin panel as a Hono app over an {@linkcode AdminPort}: sign-in with the operator's
 * password, server-rendered pages under the base path and JSON under `<base>/api/*`.
 *
 * Guards, in order, on every request:
 * 1. Only the sign-in routes answer without a session: any other path, known or not, gets `401`
 *    (`/api/*`, plain text) or a redirect to the sign-in page, so the routes cannot be mapped.
 * 2. Every POST of a session carries its CSRF token (form field `csrf` or `X-CSRF-Token`); the
 *    sign-in POST is checked for the same origin instead. Compares are constant-time.
 * 3. Sign-in attempts are limited per client address (`429` with `Retry-After`).
 *
 * The session cookie is `HttpOnly; SameSite=Strict; Path=<base>`, `Secure` on HTTPS. Every action
 * and every sign-in (good or bad) is written to the audit log.
 *
 * @example
 * ```ts
 * import { createAdminApp } from "./app.tsx";
 * // const app = createAdminApp({ port, passwordHash, sessionMinutes: 60 });
 * // Deno.serve({ hostname: "127.0.0.1", port: 8081 }, app.fetch);
 * ```
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { verifyPassword } from "../../lib/admin/mod.ts";
import { type AdminSession, AdminSessions } from "../../lib/admin/mod.ts";
import {
  AdminActionError,
  type AdminConnection,
  type AdminPort,
  type BanRequest,
  OVERRIDE_CONFIG_KEYS,
  type OverrideKey,
} from "../../lib/admin/mod.ts";
import { adminOpenApi } from "../../lib/admin/mod.ts";
import { RateLimiter } from "../../lib/status/client_ip.ts";
import type { Routes } from "../routes.ts";
import { isSameOriginRequest, readCookie } from "../../lib/auth/request.ts";
import {
  ADMIN_CSS,
  type AdminPageContext,
  AuditPage,
  BansPage,
  BlocksPage,
  ConnectionsPage,
  HealthPage,
  LoginPage,
  SettingsPage,
  WorkerPage,
} from "./views.tsx";

/** Name of the admin session cookie. */
export const ADMIN_COOKIE = "denopool_admin";

/** Largest request body the admin routes read. */
const MAX_BODY = 16 * 1024;

/** Options of {@linkcode createAdminApp}. */
export interface AdminAppOptions {
  /** What the panel reads and does. */
  readonly port: AdminPort;
  /** The stored password hash (`admin_password_hash`). */
  readonly passwordHash: string;
  /** How long a sign-in lasts, minutes. */
  readonly sessionMinutes: number;
  /** Sign-in attempts per minute from one address (default 5). */
  readonly loginAttemptsPerMinute?: number;
  /** Path the panel lives under (default `/admin`). */
  readonly base?: string;
  /**
   * The client's address for a request, given the socket's peer (default: the peer itself; behind
   * a TLS proxy, the address it forwards).
   */
  readonly clientIp?: (request: Request, peer: string) => string;
  /**
   * True when the request reached the pool over HTTPS (default: the URL's scheme, which
   * `serveStatus` sets from TLS or a trusted proxy's word).
   */
  readonly isHttps?: (request: Request) => boolean;
  /** Clock, ms (default `Date.now`). */
  readonly now?: () => number;
}

type Env = { Variables: { session: AdminSession } };

function peerIp(c: Context): string {
  const info = (c.env as { remoteAddr?: Deno.NetAddr } | undefined)?.remoteAddr;
  return info?.hostname ?? "unknown";
}

/** Reads a form or JSON body of at most {@linkcode MAX_BODY} bytes into string fields. */
async function readFields(c: Context): Promise<Record<string, string>> {
  const length = Number(c.req.header("content-length") ?? "0");
  if (length > MAX_BODY) throw new AdminActionError("request body too large");
  const text = await c.req.text();
  if (new TextEncoder().encode(text).length > MAX_BODY) {
    throw new AdminActionError("request body too large");
  }
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  const out: Record<string, string> = {};
  if (type.startsWith("application/json")) {
    let doc: unknown;
    try {
      doc = JSON.parse(text === "" ? "{}" : text);
    } catch {
      throw new AdminActionError("the body is not JSON");
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new AdminActionError("the body must be a JSON object");
    }
    for (const [k, v] of Object.entries(doc)) {
      if (v === null || v === undefined) out[k] = "";
      else if (Array.isArray(v)) out[k] = v.map(String).join(",");
      else out[k] = String(v);
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function sortConnections(list: AdminConnection[], sort: string): AdminConnection[] {
  const desc = sort.startsWith("-");
  const key = desc ? sort.slice(1) : sort;
  const pick: Record<string, (c: AdminConnection) => number | string> = {
    worker: (c) => c.worker,
    ip: (c) => c.ip,
    hashrate: (c) => c.hashrate,
    difficulty: (c) => c.difficulty,
    accepted: (c) => c.accepted,
    rejected: (c) => c.rejected,
    best: (c) => c.bestDifficulty,
    connected: (c) => c.connectedAt,
    last: (c) => c.lastShareAt ?? 0,
  };
  const f = pick[key];
  if (f === undefined) return list;
  return list.sort((a, b) => {
    const x = f(a), y = f(b);
    const r = typeof x === "number" && typeof y === "number"
      ? x - y
      : String(x).localeCompare(String(y));
    return desc ? -r : r;
  });
}

function filterConnections(list: AdminConnection[], q: string): AdminConnection[] {
  const needle = q.trim().toLowerCase();
  if (needle === "") return list;
  return list.filter((c) =>
    [c.id, c.worker, c.address, c.ip, c.userAgent].some((v) => v.toLowerCase().includes(needle))
  );
}

function parseNumber(text: string, what: string): number {
  const n = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(n)) {
    throw new AdminActionError(`${what}: not a number`);
  }
  return n;
}

/** The ban an action's fields ask for. */
function banRequest(f: Record<string, string>): BanRequest {
  const kind = f.kind;
  if (kind !== "worker" && kind !== "address" && kind !== "ip") {
    throw new AdminActionError("kind: worker, address or ip");
  }
  const value = (f.value ?? "").trim();
  if (value === "") throw new AdminActionError("value: what to ban");
  const seconds = f.seconds !== undefined && f.seconds !== ""
    ? parseNumber(f.seconds, "seconds")
    : parseNumber(f.minutes ?? "", "minutes") * 60;
  if (!(seconds > 0) || seconds > 365 * 86_400) {
    throw new AdminActionError("duration: more than 0 and at most a year");
  }
  const reason = (f.reason ?? "").trim() || "banned by the operator";
  return { kind, value, seconds, reason: reason.slice(0, 200) };
}

/** The override patch an action's fields ask for: only the fields present; "" clears one. */
function overridePatch(f: Record<string, string>): Partial<Record<OverrideKey, unknown>> {
  const patch: Partial<Record<OverrideKey, unknown>> = {};
  for (const key of Object.keys(OVERRIDE_CONFIG_KEYS) as OverrideKey[]) {
    if (!(key in f)) continue;
    const raw = f[key].trim();
    if (raw === "") patch[key] = undefined;
    else if (key === "exempt") patch[key] = raw.split(",").map((s) => s.trim()).filter(Boolean);
    else if (key === "poolTag") patch[key] = raw;
    else patch[key] = parseNumber(raw, key);
  }
  return patch;
}

/** The admin panel's routes. */
export function createAdminApp(o: AdminAppOptions): Routes {
  const base = o.base ?? "/admin";
  const now = o.now ?? Date.now;
  const ipOf = (c: Context) => o.clientIp ? o.clientIp(c.req.raw, peerIp(c)) : peerIp(c);
  const httpsOf = (c: Context) =>
    o.isHttps ? o.isHttps(c.req.raw) : new URL(c.req.url).protocol === "https:";
  const sessions = new AdminSessions({ lifetimeMs: o.sessionMinutes * 60_000 });
  const logins = new RateLimiter({ limit: o.loginAttemptsPerMinute ?? 5, windowMs: 60_000 });
  const port = o.port;
  const app = new Hono<Env>();
  const open = new Set([`${base}/login`, `${base}/api/login`, `${base}/admin.css`]);

  const who = (c: Context<Env>) => `operator@${c.get("session")?.ip ?? ipOf(c)}`;
  const audit = (c: Context<Env>, action: string, target: string, detail = "") =>
    port.audit({ at: now(), who: who(c), action, target, detail });
  const page = (c: Context<Env>, extra: Partial<AdminPageContext> = {}): AdminPageContext => ({
    base,
    csrf: c.get("session")?.csrf ?? "",
    flash: c.req.query("done"),
    error: c.req.query("error"),
    ...extra,
  });
  const plain = (c: Context, status: 400 | 401 | 403 | 404 | 409 | 413 | 429, text: string) =>
    c.text(text + "\n", status, { "content-type": "text/plain; charset=utf-8" });

  // Headers for every answer: nothing cached, nothing framed, no script at all.
  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "same-origin");
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'",
    );
  });

  // 1. A session, or only the sign-in routes.
  app.use("*", async (c, next) => {
    const path = c.req.path;
    const session = sessions.get(readCookie(c.req.header("cookie") ?? null, ADMIN_COOKIE), now());
    if (session !== undefined) {
      c.set("session", session);
      return await next();
    }
    if (open.has(path)) return await next();
    if (path.startsWith(`${base}/api/`) || c.req.method !== "GET") {
      return plain(c, 401, "sign in first");
    }
    return c.redirect(`${base}/login`, 303);
  });

  // 2. CSRF on every POST of a session.
  app.use("*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return await next();
    const session = c.get("session");
    if (session === undefined) return await next(); // only the sign-in POSTs reach here
    let token = c.req.header("x-csrf-token");
    if (token === undefined) {
      const type = (c.req.header("content-type") ?? "").toLowerCase();
      if (type.startsWith("application/x-www-form-urlencoded")) {
        try {
          token = (await readFields(c)).csrf;
        } catch {
          token = undefined;
        }
      }
    }
    if (!sessions.checkCsrf(session, token)) {
      await audit(c, "csrf-refused", c.req.path);
      return plain(c, 403, "missing or wrong CSRF token");
    }
    return await next();
  });

  const cookie = (c: Context, s: AdminSession | undefined) => {
    const secure = httpsOf(c) ? "; Secure" : "";
    if (s === undefined) {
      return `${ADMIN_COOKIE}=; Path=${base}; Max-Age=0; HttpOnly; SameSite=Strict${secure}`;
    }
    const maxAge = Math.max(0, Math.floor((s.expiresAt - now()) / 1000));
    return `${ADMIN_COOKIE}=${s.id}; Path=${base}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
  };

  // Sign-in: a rate limit per address, the same origin for the form, one audit line per attempt.
  const signIn = async (c: Context<Env>): Promise<AdminSession | Response> => {
    const ip = ipOf(c);
    const wait = logins.take(ip, now());
    if (wait > 0) {
      await port.audit({
        at: now(),
        who: `operator@${ip}`,
        action: "login-limited",
        target: "",
        detail: "",
      });
      return c.text("too many sign-in attempts; try again later\n", 429, {
        "retry-after": String(Math.ceil(wait / 1000)),
        "content-type": "text/plain; charset=utf-8",
      });
    }
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isSameOriginRequest(c.req.raw.headers, host)) {
      return plain(c, 403, "cross-site sign-in refused");
    }
    let fields: Record<string, string>;
    try {
      fields = await readFields(c);
    } catch (error) {
      return plain(c, 400, error instanceof Error ? error.message : String(error));
    }
    const ok = await verifyPassword(fields.password ?? "", o.passwordHash);
    await port.audit({
      at: now(),
      who: `operator@${ip}`,
      action: ok ? "login" : "login-failed",
      target: "",
      detail: "",
    });
    if (!ok) return plain(c, 401, "wrong password");
    return sessions.create(ip, now());
  };

  app.get(
    `${base}/admin.css`,
    (c) => c.body(ADMIN_CSS, 200, { "content-type": "text/css; charset=utf-8" }),
  );
  app.get(`${base}/login`, (c) => c.html(<LoginPage ctx={page(c, { csrf: "" })} />));
  app.post(`${base}/login`, async (c) => {
    const s = await signIn(c);
    if (s instanceof Response) return s;
    c.header("Set-Cookie", cookie(c, s));
    return c.redirect(base, 303);
  });
  app.post(`${base}/api/login`, async (c) => {
    const s = await signIn(c);
    if (s instanceof Response) return s;
    c.header("Set-Cookie", cookie(c, s));
    return c.json({ csrf_token: s.csrf, expires_at: new Date(s.expiresAt).toISOString() });
  });
  const logout = async (c: Context<Env>) => {
    const s = c.get("session");
    sessions.end(s.id);
    await audit(c, "logout", "");
    c.header("Set-Cookie", cookie(c, undefined));
  };
  app.post(`${base}/logout`, async (c) => {
    await logout(c);
    return c.redirect(`${base}/login`, 303);
  });
  app.post(`${base}/api/logout`, async (c) => {
    await logout(c);
    return c.json({ ok: true });
  });

  // --- views -----------------------------------------------------------------------------------

  app.get(base, (c) => {
    const all = port.connections(now());
    const q = c.req.query("q") ?? "";
    const sort = c.req.query("sort") ?? "-hashrate";
    const list = sortConnections(filterConnections(all, q), sort);
    return c.html(
      <ConnectionsPage ctx={page(c)} connections={list} total={all.length} q={q} sort={sort} />,
    );
  });
  app.get(`${base}/worker`, (c) => {
    const name = c.req.query("name") ?? "";
    const mine = port.connections(now()).filter((x) => x.worker === name);
    const address = name.split(".")[0];
    const bans = port.bans(now()).filter((b) => b.key === name || b.key === address);
    const blocks = port.blocks().filter((b) => b.worker === name);
    return c.html(
      <WorkerPage ctx={page(c)} name={name} connections={mine} bans={bans} blocks={blocks} />,
    );
  });
  app.get(`${base}/bans`, (c) => c.html(<BansPage ctx={page(c)} bans={port.bans(now())} />));
  app.get(`${base}/blocks`, (c) => c.html(<BlocksPage ctx={page(c)} blocks={port.blocks()} />));
  app.get(`${base}/blocks/:file{[0-9a-f]{64}\\.hex}`, async (c) => {
    const hash = c.req.param("file").slice(0, 64);
    const hex = await port.rawBlock(hash);
    if (hex === undefined) return plain(c, 404, "no such block in the journal");
    return c.body(hex, 200, {
      "content-type": "text/plain; charset=utf-8",
      "content-disposition": `attachment; filename="${hash}.hex"`,
    });
  });
  app.get(`${base}/health`, (c) => c.html(<HealthPage ctx={page(c)} health={port.health()} />));
  app.get(`${base}/settings`, (c) =>
    c.html(
      <SettingsPage ctx={page(c)} overrides={port.overrides()} settings={port.effectiveConfig()} />,
    ));
  app.get(
    `${base}/audit`,
    async (c) => c.html(<AuditPage ctx={page(c)} entries={await port.auditLog(500)} />),
  );

  // --- actions: one function each, answered as a redirect (forms) or JSON (API) ----------------

  type Action = (
    c: Context<Env>,
    f: Record<string, string>,
  ) => Promise<{ done: string; body: unknown }>;
  const actions: Record<string, Action> = {
    kick: async (c, f) => {
      const id = (f.id ?? "").trim();
      const message = (f.message ?? "").trim() || "Disconnected by the pool operator";
      if (!port.kick(id, message)) throw new AdminActionError(`no connection ${id}`, 404);
      await audit(c, "kick", id, message);
      return { done: `connection ${id} closed`, body: { kicked: id } };
    },
    ban: async (c, f) => {
      const ban = port.ban(banRequest(f), now());
      await audit(c, "ban", ban.key, `${Math.round((ban.until - now()) / 1000)} s: ${ban.reason}`);
      return { done: `${ban.key} banned`, body: ban };
    },
    unban: async (c, f) => {
      const key = (f.key ?? "").trim();
      if (!port.unban(key)) throw new AdminActionError(`no ban on ${key}`, 404);
      await audit(c, "unban", key);
      return { done: `${key} unbanned`, body: { unbanned: key } };
    },
    message: async (c, f) => {
      const text = (f.text ?? "").trim();
      if (text === "" || text.length > 512) throw new AdminActionError("text: 1 to 512 characters");
      const id = (f.id ?? "").trim() || undefined;
      const sent = port.showMessage(id, text);
      if (id !== undefined && sent === 0) throw new AdminActionError(`no connection ${id}`, 404);
      await audit(c, "message", id ?? "all", text);
      return { done: `message sent to ${sent} connection(s)`, body: { sent } };
    },
    floor: async (c, f) => {
      const worker = (f.worker ?? "").trim();
      if (worker === "") throw new AdminActionError("worker: a worker name");
      const raw = (f.difficulty ?? "").trim();
      const d = raw === "" ? undefined : parseNumber(raw, "difficulty");
      if (d !== undefined && !(d > 0)) throw new AdminActionError("difficulty: more than 0");
      const n = port.setDifficultyFloor(worker, d);
      await audit(c, "difficulty-floor", worker, d === undefined ? "lifted" : String(d));
      return { done: `floor ${d ?? "lifted"} for ${worker} (${n} live)`, body: { connections: n } };
    },
    resubmit: async (c, f) => {
      const hash = (f.hash ?? "").trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new AdminActionError("hash: 64 hex digits");
      const answer = await port.resubmitBlock(hash);
      await audit(c, "resubmit", hash, answer);
      return { done: `block ${hash.slice(0, 16)}… resubmitted: ${answer}`, body: { answer } };
    },
    overrides: async (c, f) => {
      const patch = overridePatch(f);
      const result = await port.setOverrides(patch);
      await audit(c, "override", Object.keys(patch).join(","), JSON.stringify(patch));
      return { done: "overrides applied", body: result };
    },
  };
  const pages: Record<string, string> = {
    kick: "",
    ban: "/bans",
    unban: "/bans",
    message: "",
    floor: "",
    resubmit: "/blocks",
    overrides: "/settings",
  };

  for (const [name, action] of Object.entries(actions)) {
    app.post(`${base}/actions/${name}`, async (c) => {
      const back = `${base}${pages[name]}`;
      try {
        const { done } = await action(c, await readFields(c));
        return c.redirect(`${back}?${new URLSearchParams({ done })}`, 303);
      } catch (error) {
        if (!(error instanceof AdminActionError)) throw error;
        return c.redirect(`${back}?${new URLSearchParams({ error: error.message })}`, 303);
      }
    });
    app.post(`${base}/api/${name}`, async (c) => {
      try {
        return c.json((await action(c, await readFields(c))).body);
      } catch (error) {
        if (!(error instanceof AdminActionError)) throw error;
        return plain(c, error.status, error.message);
      }
    });
  }

  // --- JSON views ------------------------------------------------------------------------------

  app.get(`${base}/api/session`, (c) => {
    const s = c.get("session");
    return c.json({ csrf_token: s.csrf, expires_at: new Date(s.expiresAt).toISOString() });
  });
  app.get(`${base}/api/connections`, (c) => {
    const list = sortConnections(
      filterConnections(port.connections(now()), c.req.query("q") ?? ""),
      c.req.query("sort") ?? "-hashrate",
    );
    return c.json(list);
  });
  app.get(`${base}/api/workers/:name`, (c) => {
    const name = c.req.param("name");
    return c.json({
      name,
      connections: port.connections(now()).filter((x) => x.worker === name),
      blocks: port.blocks().filter((b) => b.worker === name),
    });
  });
  app.get(`${base}/api/bans`, (c) => c.json(port.bans(now())));
  app.get(`${base}/api/blocks`, (c) => c.json(port.blocks()));
  app.get(`${base}/api/blocks/:hash{[0-9a-f]{64}}/raw`, async (c) => {
    const hex = await port.rawBlock(c.req.param("hash"));
    if (hex === undefined) return plain(c, 404, "no such block in the journal");
    return c.body(hex, 200, { "content-type": "text/plain; charset=utf-8" });
  });
  app.get(`${base}/api/health`, (c) => c.json(port.health()));
  app.get(`${base}/api/config`, (c) => c.json(port.effectiveConfig()));
  app.get(`${base}/api/overrides`, (c) => c.json(port.overrides()));
  app.get(`${base}/api/audit`, async (c) => {
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? "100") || 100));
    return c.json(await port.auditLog(limit));
  });
  app.get(`${base}/api/openapi.json`, (c) => c.json(adminOpenApi(base)));

  app.notFound((c) => plain(c, 404, "not found"));
  app.onError((error, c) => {
    if (error instanceof AdminActionError) return plain(c, error.status, error.message);
    return c.text("internal error\n", 500, { "content-type": "text/plain; charset=utf-8" });
  });
  return app;
}
