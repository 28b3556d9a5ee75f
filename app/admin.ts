/**
 * The admin panel wired to a running pool: {@linkcode PoolAdmin} implements the panel's port over
 * the Stratum server, the block journal, the template feed and the node; the runtime overrides
 * and the audit log live in the pool's KV store; {@linkcode startAdmin} serves the panel on
 * `admin.listen` (behind the same HTTP guard and trusted-proxy rules as the status listeners) or
 * hands its routes to the status server (`admin.listen = ""`).
 *
 * @module
 */

import type { Routes } from "../routes/routes.ts";
import type { Config } from "../lib/config/mod.ts";
import { parseHostPort } from "../lib/config/mod.ts";
import { tomlKey } from "../lib/config/mod.ts";
import {
  AdminActionError,
  type AdminBan,
  type AdminBlock,
  type AdminConnection,
  type AdminHealth,
  type AdminHealthEvent,
  type AdminOverrides,
  type AdminPort,
  type AuditEntry,
  type BanRequest,
  type EffectiveSetting,
  OVERRIDE_CONFIG_KEYS,
  type OverrideKey,
} from "../lib/admin/mod.ts";
import { IpRanges, parseIp } from "../lib/net/mod.ts";
import type { BanEntry, BanList } from "../lib/pool/mod.ts";
import type { BlockSubmitter } from "../lib/pool/mod.ts";
import type { JobManager } from "../lib/pool/mod.ts";
import type { RpcClient } from "../lib/node/mod.ts";
import type { TemplateFeed } from "../lib/node/mod.ts";
import type { StratumServer } from "../stratum/mod.ts";
import { createAdminApp } from "../routes/admin/app.tsx";
import { clientIp } from "../lib/status/client_ip.ts";
import { serveStatus } from "../lib/status/server.ts";
import { httpLimitsFrom } from "./status_service.ts";

/** KV keys of the admin side (beside the store's own, under the same database). */
const OVERRIDES_KEY = ["admin", "v1", "overrides"] as const;
const AUDIT_PREFIX = ["admin", "v1", "audit"] as const;
/** Audit lines kept (the oldest go first). */
const AUDIT_KEPT = 10_000;

/** The parts of a running pool the panel reads and acts on. */
export interface AdminParts {
  /** The validated configuration. */
  readonly config: Config;
  /** Stratum listeners, connections, bans and admission. */
  readonly stratum: StratumServer;
  /** Worker and address bans (the list the sessions check). */
  readonly bans: BanList;
  /** The block submitter (its records are the journal). */
  readonly blocks: BlockSubmitter;
  /** Jobs (the pool tag override). */
  readonly jobs: JobManager;
  /** The template feed. */
  readonly feed: TemplateFeed;
  /** The node's RPC client. */
  readonly rpc: RpcClient;
  /** The pool's KV database (overrides and audit log). */
  readonly kv: Deno.Kv;
  /** Operator log. */
  readonly log: (message: string) => void;
}

function banKind(key: string): AdminBan["kind"] {
  if (key.startsWith("ip:")) return "ip";
  return key.includes(".") ? "worker" : "address";
}

function toAdminBan(b: BanEntry): AdminBan {
  return {
    key: b.key,
    kind: banKind(b.key),
    reason: b.reason,
    source: b.source ?? "unknown",
    until: b.until,
  };
}

/** Checks one override value; throws {@linkcode AdminActionError} naming the key. */
function checkOverride(key: OverrideKey, value: unknown): AdminOverrides[OverrideKey] {
  const number = (ok: (n: number) => boolean, expected: string): number => {
    if (typeof value !== "number" || !Number.isFinite(value) || !ok(value)) {
      throw new AdminActionError(`${key}: expected ${expected}`);
    }
    return value;
  };
  switch (key) {
    case "targetSharesPerMinute":
      return number((n) => n > 0 && n <= 600, "a number above 0 and at most 600");
    case "minDifficulty":
      return number((n) => n > 0 && n <= 1e15, "a number above 0");
    case "maxDifficulty":
      return number((n) => n >= 0 && n <= 1e15, "0 (no limit) or more");
    case "messagesPerMinute":
      return number(
        (n) => Number.isInteger(n) && n >= 0 && n <= 1e6,
        "a whole number, 0 = no limit",
      );
    case "acceptRatePerSecond":
      return number((n) => n > 0 && n <= 1e6, "a number above 0");
    case "maxConnectionsPerIp":
      return number(
        (n) => Number.isInteger(n) && n >= 0 && n <= 1e6,
        "a whole number, 0 = no limit",
      );
    case "exempt": {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw new AdminActionError("exempt: expected a list of addresses or CIDR ranges");
      }
      try {
        new IpRanges(value);
      } catch (error) {
        throw new AdminActionError(`exempt: ${error instanceof Error ? error.message : error}`);
      }
      return Object.freeze([...value]);
    }
    case "poolTag": {
      if (typeof value !== "string" || !/^[\x20-\x7e]*$/.test(value) || value.length > 40) {
        throw new AdminActionError("poolTag: expected printable ASCII, at most 40 characters");
      }
      return value;
    }
  }
}

/** The admin panel's port over a running pool. */
export class PoolAdmin implements AdminPort {
  readonly #p: AdminParts;
  #overrides: AdminOverrides = {};
  /** Audit lines written by this process (the log is trimmed every 100th). */
  #auditWrites = 0;

  /** A port over `parts`; call {@linkcode PoolAdmin.load} to apply stored overrides. */
  constructor(parts: AdminParts) {
    this.#p = parts;
  }

  /** Reads the stored overrides and applies them (at start, before miners connect). */
  async load(): Promise<void> {
    const stored = await this.#p.kv.get<AdminOverrides>([...OVERRIDES_KEY]);
    if (stored.value === null) return;
    const valid: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(stored.value)) {
      try {
        valid[key] = checkOverride(key as OverrideKey, value);
      } catch (error) {
        this.#p.log(`admin: stored override ${key} ignored: ${(error as Error).message}`);
      }
    }
    this.#apply(valid as AdminOverrides);
    this.#overrides = valid as AdminOverrides;
    const keys = Object.keys(valid);
    if (keys.length > 0) this.#p.log(`admin: overrides in force: ${keys.join(", ")}`);
  }

  connections(now: number): AdminConnection[] {
    const out: AdminConnection[] = [];
    for (const s of this.#p.stratum.registry.stats()) {
      const snap = s.snapshot(now);
      out.push({
        id: snap.connectionId,
        worker: snap.name,
        address: snap.address,
        ip: snap.remoteAddress,
        userAgent: snap.userAgent,
        transport: snap.tls ? "tls" : "tcp",
        difficulty: snap.difficulty,
        hashrate: snap.hashrate,
        sharesPerMinute: snap.sharesPerMinute,
        accepted: snap.accepted,
        rejected: snap.rejected,
        rejectedByReason: { ...snap.rejectedByReason },
        bestDifficulty: snap.bestDifficulty,
        connectedAt: snap.connectedAt,
        lastShareAt: snap.lastShareAt,
      });
    }
    return out;
  }

  bans(now: number): AdminBan[] {
    const ips = this.#p.stratum.admission.bans;
    const all = [...this.#p.bans.list(now), ...(ips === this.#p.bans ? [] : ips.list(now))];
    return all.map(toAdminBan).sort((a, b) => a.until - b.until);
  }

  blocks(): AdminBlock[] {
    return this.#p.blocks.records().map((r) => ({
      height: r.height,
      hash: r.hash,
      worker: r.worker,
      status: r.status,
      reason: r.reason,
      attempts: r.attempts,
      foundAt: r.foundAt,
      updatedAt: r.updatedAt,
    })).sort((a, b) => b.foundAt - a.foundAt);
  }

  rawBlock(hash: string): Promise<string | undefined> {
    return Promise.resolve(this.#p.blocks.blockHex(hash));
  }

  health(): AdminHealth {
    const feed = this.#p.feed.status();
    const rpc = this.#p.rpc.health;
    const events: AdminHealthEvent[] = feed.errorHistory.map((e) => ({ ...e, part: "feed" }));
    if (rpc.lastError !== undefined && rpc.lastErrorAt !== undefined) {
      events.push({ at: rpc.lastErrorAt, part: "rpc", message: rpc.lastError });
    }
    if (feed.zmq?.lastError !== undefined) {
      events.push({ at: feed.lastErrorAt ?? 0, part: "zmq", message: feed.zmq.lastError });
    }
    const journal = this.#p.blocks.journalError;
    if (journal !== undefined) events.push({ ...journal, part: "journal" });
    return {
      rpcHealthy: rpc.rpcHealthy,
      zmqHealthy: feed.zmq?.zmqHealthy,
      feedReady: feed.ready,
      notReadyReason: feed.notReadyReason,
      tip: feed.tip?.height === undefined
        ? undefined
        : { height: feed.tip.height, hash: feed.tip.hash },
      events: events.sort((a, b) => b.at - a.at),
    };
  }

  effectiveConfig(): EffectiveSetting[] {
    const c = this.#p.config;
    const overridden = new Map<string, unknown>();
    const o = this.#overrides;

    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined) overridden.set(OVERRIDE_CONFIG_KEYS[k as OverrideKey], v);
    }
    const out: EffectiveSetting[] = [];
    const sections = [
      "server",
      "stratum",
      "node",
      "mining",
      "difficulty",
      "bans",
      "auth",
      "discord",
      "status",
      "admin",
    ] as const;
    for (const section of sections) {
      for (const [key, value] of Object.entries(c[section])) {
        const dotted = `${section}.${tomlKey(key)}`;
        const isOverridden = overridden.has(dotted);
        out.push({
          key: dotted,
          value: isOverridden ? overridden.get(dotted) : value,
          overridden: isOverridden,
        });
      }
    }
    for (const [key, value] of Object.entries(c.secrets)) {
      out.push({
        key: `secrets.${tomlKey(key)}`,
        value: value === "" ? "" : "(set)",
        overridden: false,
      });
    }
    return out;
  }

  overrides(): AdminOverrides {
    return { ...this.#overrides };
  }

  kick(connectionId: string, message: string): boolean {
    return this.#p.stratum.kick(connectionId, message);
  }

  ban(request: BanRequest, now: number): AdminBan {
    const ms = Math.round(request.seconds * 1000);
    let entry: BanEntry;
    if (request.kind === "ip") {
      const bytes = parseIp(request.value);
      if (bytes === undefined) throw new AdminActionError(`not an IP address: ${request.value}`);
      const ip = request.value.trim();
      entry = this.#p.stratum.admission.bans.ban(`ip:${ip}`, request.reason, ms, now, "operator");
      const canonical = new IpRanges([ip]);
      this.#p.stratum.closeWhere(
        (_s, peer) => {
          const p = parseIp(peer);
          return p !== undefined && canonical.has(p);
        },
        `Banned: ${request.reason}`,
      );
    } else {
      const key = request.value.trim();
      entry = this.#p.bans.ban(key, request.reason, ms, now, "operator");
      this.#p.stratum.closeWhere(
        (s) => request.kind === "worker" ? s.name === key : s.address === key,
        `Banned: ${request.reason}`,
      );
    }
    return toAdminBan(entry);
  }

  unban(key: string): boolean {
    const ips = this.#p.stratum.admission.bans;
    return key.startsWith("ip:") && ips !== this.#p.bans ? ips.unban(key) : this.#p.bans.unban(key);
  }

  showMessage(connectionId: string | undefined, text: string): number {
    return this.#p.stratum.showMessage(connectionId, text);
  }

  setDifficultyFloor(worker: string, difficulty: number | undefined): number {
    return this.#p.stratum.setDifficultyFloor(worker, difficulty);
  }

  async resubmitBlock(hash: string): Promise<string> {
    let answer: string | undefined;
    try {
      answer = await this.#p.blocks.resubmit(hash);
    } catch (error) {
      throw new AdminActionError(
        `the node did not answer: ${error instanceof Error ? error.message : error}`,
        409,
      );
    }
    if (answer === undefined) {
      throw new AdminActionError(`block ${hash} is not in the journal`, 404);
    }
    return answer;
  }

  async setOverrides(patch: Partial<Record<OverrideKey, unknown>>): Promise<AdminOverrides> {
    const next: Record<string, unknown> = { ...this.#overrides };
    for (const [key, value] of Object.entries(patch)) {
      if (!(key in OVERRIDE_CONFIG_KEYS)) throw new AdminActionError(`unknown setting: ${key}`);
      if (value === undefined) delete next[key];
      else next[key] = checkOverride(key as OverrideKey, value);
    }
    const overrides = next as AdminOverrides;
    const minD = overrides.minDifficulty ?? this.#p.config.difficulty.min;
    const maxD = overrides.maxDifficulty ?? this.#p.config.difficulty.max;
    if (maxD > 0 && maxD < minD) {
      throw new AdminActionError(`maxDifficulty: expected 0 or at least the minimum (${minD})`);
    }
    this.#apply(overrides, this.#overrides);
    this.#overrides = overrides;
    await this.#p.kv.set([...OVERRIDES_KEY], overrides);
    return this.overrides();
  }

  /** Puts overrides in force; keys missing from `o` but present in `before` go back to the config. */
  #apply(o: AdminOverrides, before: AdminOverrides = {}): void {
    const c = this.#p.config;
    const changed = (k: OverrideKey) => k in o || k in before;
    const now = Date.now();
    if (changed("acceptRatePerSecond") || changed("maxConnectionsPerIp") || changed("exempt")) {
      const perIp = o.maxConnectionsPerIp ?? c.stratum.maxConnectionsPerIp;
      this.#p.stratum.admission.retune({
        acceptRatePerSecond: o.acceptRatePerSecond ?? c.stratum.acceptRatePerSecond,
        maxPerIp: perIp > 0 ? perIp : Number.POSITIVE_INFINITY,
        exempt: o.exempt ?? c.bans.exempt,
      }, now);
    }
    if (changed("messagesPerMinute")) {
      this.#p.stratum.setMessagesPerMinute(o.messagesPerMinute ?? c.stratum.messagesPerMinute);
    }
    if (changed("poolTag")) {
      this.#p.jobs.setTag(new TextEncoder().encode(o.poolTag ?? c.mining.poolTag));
      // New work with the new tag now, on the same template (not clean: old jobs stay valid).
      const current = this.#p.feed.current();
      if (current !== undefined) this.#p.jobs.addTemplate(current.template, false);
    }
    if (changed("targetSharesPerMinute") || changed("minDifficulty") || changed("maxDifficulty")) {
      const max = o.maxDifficulty ?? c.difficulty.max;
      this.#p.stratum.retuneVardiff({
        targetSharesPerMinute: o.targetSharesPerMinute ?? c.difficulty.targetSharesPerMinute,
        minDifficulty: o.minDifficulty ?? c.difficulty.min,
        maxDifficulty: max > 0 ? max : Number.POSITIVE_INFINITY,
      });
    }
  }

  async audit(entry: AuditEntry): Promise<void> {
    const id = crypto.getRandomValues(new Uint32Array(1))[0];
    await this.#p.kv.set([...AUDIT_PREFIX, entry.at, id], entry);
    this.#p.log(
      `admin audit: ${entry.who} ${entry.action}${entry.target ? " " + entry.target : ""}` +
        (entry.detail ? ` (${entry.detail})` : ""),
    );
    if (++this.#auditWrites % 100 === 0) await this.#trimAudit();
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for await (
      const e of this.#p.kv.list<AuditEntry>({ prefix: [...AUDIT_PREFIX] }, {
        reverse: true,
        limit,
      })
    ) {
      out.push(e.value);
    }
    return out;
  }

  async #trimAudit(): Promise<void> {
    let seen = 0;
    for await (const e of this.#p.kv.list({ prefix: [...AUDIT_PREFIX] }, { reverse: true })) {
      if (++seen > AUDIT_KEPT) await this.#p.kv.delete(e.key);
    }
  }
}

/** The running admin side. */
export interface AdminService {
  /** The port (tests and the demo read it). */
  readonly port: PoolAdmin;
  /** The panel's routes, to mount on the status server when it has no listener of its own. */
  readonly routes?: Routes;
  /** Bound address of its own listener. */
  readonly address?: { readonly hostname: string; readonly port: number };
  /** Stops its listener. */
  stop(): Promise<void>;
}

/** Starts the admin side when `config.admin.enabled`; undefined otherwise. */
export async function startAdmin(parts: AdminParts): Promise<AdminService | undefined> {
  const { config } = parts;
  if (!config.admin.enabled) return undefined;
  const port = new PoolAdmin(parts);
  await port.load();
  const trusted = new IpRanges(config.server.trustedProxies);
  const app = createAdminApp({
    port,
    passwordHash: config.secrets.adminPasswordHash,
    sessionMinutes: config.admin.sessionMinutes,
    loginAttemptsPerMinute: config.admin.loginAttemptsPerMinute,
    // Sign-in limits per client, not per proxy; the scheme is already in the URL (serveStatus).
    clientIp: (request, peer) => clientIp(peer, request.headers, trusted),
  });
  if (config.admin.listen === "") {
    return { port, routes: app, stop: () => Promise.resolve() };
  }
  const at = parseHostPort(config.admin.listen);
  if (!at) throw new Error(`admin.listen: not a host:port address: ${config.admin.listen}`);
  const server = serveStatus({
    listen: at,
    app,
    trustedProxies: config.server.trustedProxies,
    limits: httpLimitsFrom(config.server),
  });
  const bound = server.http!;
  parts.log(`admin panel on http://${bound.hostname}:${bound.port}/admin`);
  return {
    port,
    address: bound,
    async stop() {
      await server.shutdown(); // bounded: a stuck request does not hold the pool's stop
    },
  };
}
