/**
 * Field validators for configuration keys: each turns one raw TOML value into a typed value or
 * says what it expected. Every field also accepts its own typed value, so defaults and
 * command-line overrides go through the same check as the file.
 *
 * @module
 */

/** Outcome of checking one raw value: the typed value, or what was expected instead. */
export type FieldResult<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  /** What was expected, e.g. "an integer from 2 to 8". */
  readonly expected: string;
  /** Where inside the value the problem is, appended to the key (e.g. "[2]" for an item). */
  readonly at?: string;
};

/** One configuration key: its default and how to check a raw value. */
export interface Field<T> {
  /** Value used when the key is absent. */
  readonly default: T;
  /** Checks a raw TOML value (or an already typed value) and converts it. */
  parse(raw: unknown): FieldResult<T>;
  /**
   * Turns the key's value written as text (a `DENOPOOL_*` environment variable) into the raw
   * value {@linkcode Field.parse} checks: `"true"` into `true`, `"30"` into `30`, `"a,b"` into
   * `["a", "b"]`. Text that does not convert is passed on as is, so `parse` says what it expected.
   * Absent when the key cannot be written as text (arrays of tables).
   */
  readonly fromText?: (text: string) => unknown;
}

/** The text as is (strings, choices, hex masks). */
const asText = (text: string): unknown => text;

/** `"true"`/`"false"` as booleans; anything else as is. */
const booleanText = (text: string): unknown =>
  text === "true" ? true : text === "false" ? false : text;

/** A decimal number (`30`, `-1`, `0.5`, `1e6`) as a number; anything else as is. */
const numberText = (text: string): unknown =>
  /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : text;

/** Comma-separated items, each trimmed; "" (or only spaces) is the empty list. */
const listText = (text: string): unknown =>
  text.trim() === "" ? [] : text.split(",").map((item) => item.trim());

function ok<T>(value: T): FieldResult<T> {
  return { ok: true, value };
}

function fail<T>(expected: string): FieldResult<T> {
  return { ok: false, expected };
}

const UTF8 = new TextEncoder();

/** Describes a value found in a file for the "found …" part of an error message. */
export function describeValue(raw: unknown): string {
  if (raw === undefined) return "nothing";
  if (typeof raw === "string") {
    return JSON.stringify(raw.length > 80 ? raw.slice(0, 77) + "…" : raw);
  }
  if (typeof raw === "number" || typeof raw === "bigint") return String(raw);
  if (typeof raw === "boolean") return `the boolean ${raw}`;
  if (Array.isArray(raw)) return raw.length === 0 ? "an empty array" : "an array";
  if (raw instanceof Date) return "a date";
  if (typeof raw === "object" && raw !== null) return "a table";
  return String(raw);
}

/** A boolean key. */
export function booleanField(defaultValue: boolean): Field<boolean> {
  return {
    default: defaultValue,
    parse: (raw) => typeof raw === "boolean" ? ok(raw) : fail("true or false"),
    fromText: booleanText,
  };
}

/** An integer key in `[min, max]`. */
export function integerField(defaultValue: number, min: number, max: number): Field<number> {
  const expected = `an integer from ${min} to ${max}`;
  return {
    default: defaultValue,
    parse(raw) {
      if (typeof raw !== "number" || !Number.isInteger(raw)) return fail(expected);
      return raw >= min && raw <= max ? ok(raw) : fail(expected);
    },
    fromText: numberText,
  };
}

/** Bounds of a number key. */
export interface NumberBounds {
  /** Smallest allowed value. */
  readonly min: number;
  /** True when `min` itself is not allowed. */
  readonly minExclusive?: boolean;
  /** Largest allowed value. */
  readonly max: number;
}

/** A number key (integers and fractions) within bounds. */
export function numberField(defaultValue: number, bounds: NumberBounds): Field<number> {
  const low = bounds.minExclusive ? `greater than ${bounds.min}` : `at least ${bounds.min}`;
  const expected = `a number ${low} and at most ${bounds.max}`;
  return {
    default: defaultValue,
    parse(raw) {
      if (typeof raw !== "number" || !Number.isFinite(raw)) return fail(expected);
      const aboveMin = bounds.minExclusive ? raw > bounds.min : raw >= bounds.min;
      return aboveMin && raw <= bounds.max ? ok(raw) : fail(expected);
    },
    fromText: numberText,
  };
}

/** Options of a string key. */
export interface StringOptions {
  /** Longest allowed value in UTF-8 bytes. */
  readonly maxBytes?: number;
  /** Extra check; returns what was expected when the value is not acceptable. */
  readonly check?: (value: string) => string | undefined;
}

/** A string key. Values never contain control characters (they end up in logs and headers). */
export function stringField(defaultValue: string, options: StringOptions = {}): Field<string> {
  const maxBytes = options.maxBytes ?? 4096;
  return {
    default: defaultValue,
    parse(raw) {
      if (typeof raw !== "string") return fail("a string");
      // deno-lint-ignore no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(raw)) return fail("a string without control characters");
      if (UTF8.encode(raw).length > maxBytes) return fail(`a string of at most ${maxBytes} bytes`);
      const problem = options.check?.(raw);
      return problem === undefined ? ok(raw) : fail(problem);
    },
    fromText: asText,
  };
}

/** A string key restricted to a fixed set of values. */
export function choiceField<const T extends string>(
  defaultValue: T,
  choices: readonly T[],
): Field<T> {
  const expected = `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`;
  return {
    default: defaultValue,
    parse: (raw) =>
      typeof raw === "string" && (choices as readonly string[]).includes(raw)
        ? ok(raw as T)
        : fail(expected),
    fromText: asText,
  };
}

/**
 * An array-of-strings key; each item must pass `check`. `itemExpected` describes one item
 * ("an IP address or CIDR range") and is reported with the item's index when one fails.
 */
export function stringListField(
  defaultValue: readonly string[],
  itemExpected: string,
  check: (item: string) => boolean = () => true,
  maxItems = 1024,
): Field<readonly string[]> {
  const expected = `an array of at most ${maxItems} strings, each ${itemExpected}`;
  return {
    default: defaultValue,
    parse(raw) {
      if (!Array.isArray(raw) || raw.length > maxItems) return fail(expected);
      for (let i = 0; i < raw.length; i++) {
        const item: unknown = raw[i];
        // deno-lint-ignore no-control-regex
        if (typeof item !== "string" || /[\u0000-\u001f\u007f]/.test(item) || !check(item)) {
          return { ok: false, expected: itemExpected, at: `[${i}]` };
        }
      }
      return ok(Object.freeze([...raw] as string[]));
    },
    fromText: listText,
  };
}

/** A 32-bit mask written as 8 hex digits (e.g. "1fffe000"); also accepts the number itself. */
export function hexMaskField(defaultValue: number): Field<number> {
  const expected = "8 hex digits (a 32-bit mask)";
  return {
    default: defaultValue,
    parse(raw) {
      if (typeof raw === "number") {
        return Number.isInteger(raw) && raw >= 0 && raw <= 0xffffffff ? ok(raw) : fail(expected);
      }
      if (typeof raw !== "string" || !/^[0-9a-fA-F]{8}$/.test(raw)) return fail(expected);
      return ok(parseInt(raw, 16) >>> 0);
    },
    fromText: asText,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks for string shapes shared by several keys. Each returns undefined when the value is fine,
// else what was expected.

/** Host and port of a listen or connect address, split. */
export interface HostPort {
  /** Host name or IP literal (IPv6 without brackets); "0.0.0.0" when the address was ":PORT". */
  readonly hostname: string;
  /** TCP port, 0..65535 (0 = any free port, as the OS picks; handy in tests). */
  readonly port: number;
}

/** Splits "host:port", "[v6]:port" or ":port" (all interfaces); undefined when malformed. */
export function parseHostPort(address: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-]*)):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined) {
    return isIpv6(match[1]) ? { hostname: match[1], port } : undefined;
  }
  const host = match[2];
  if (host === "") return { hostname: "0.0.0.0", port };
  if (/^[\d.]+$/.test(host)) return isIpv4(host) ? { hostname: host, port } : undefined;
  return isHostname(host) ? { hostname: host, port } : undefined;
}

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === "0" || p[0] !== "0"));
}

/** True for an IPv6 address literal (no brackets, no zone). */
export function isIpv6(s: string): boolean {
  if (!s.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** True for a DNS host name (letters, digits, hyphens, dots). */
export function isHostname(s: string): boolean {
  return s.length <= 253 &&
    s.split(".").every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

/** True for an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf("/");
  const ip = slash < 0 ? s : s.slice(0, slash);
  const v4 = isIpv4(ip);
  if (!v4 && !isIpv6(ip)) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128);
}

/** Check for "host:port" listen addresses; "" (off) is allowed when `optional`. */
export function hostPortCheck(optional: boolean): (value: string) => string | undefined {
  const expected = optional
    ? `"host:port" (e.g. "0.0.0.0:3333") or "" to turn it off`
    : `"host:port" (e.g. "0.0.0.0:3333")`;
  return (value) => {
    if (value === "" && optional) return undefined;
    return parseHostPort(value) === undefined ? expected : undefined;
  };
}

/** Check for URLs with one of `protocols` (e.g. ["http:", "https:"]); "" allowed when `optional`. */
export function urlCheck(
  protocols: readonly string[],
  optional: boolean,
): (value: string) => string | undefined {
  const schemes = protocols.map((p) => p.replace(/:$/, "")).join(" or ");
  const expected = optional ? `a ${schemes} URL or ""` : `a ${schemes} URL`;
  return (value) => {
    if (value === "" && optional) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return expected;
    }
    if (!protocols.includes(url.protocol) || url.hostname === "") return expected;
    return undefined;
  };
}

/** Check for ZMQ endpoints "tcp://host:port" (or "" = off). */
export function zmqEndpointCheck(value: string): string | undefined {
  if (value === "") return undefined;
  const expected = `"tcp://host:port" or "" to turn it off`;
  if (!value.startsWith("tcp://")) return expected;
  const hostPort = parseHostPort(value.slice("tcp://".length));
  return hostPort === undefined ? expected : undefined;
}

/** Check for Discord snowflake ids (decimal digits) or "". */
export function snowflakeCheck(value: string): string | undefined {
  return value === "" || /^\d{15,21}$/.test(value) ? undefined : `a Discord id (digits) or ""`;
}

/**
 * An array of tables (`[[section.key]]` in TOML), each checked against `fields` (snake_case keys in
 * the file, camelCase in the value; absent keys take their defaults), then by `check` as a whole.
 * A failing item is reported at `[i].key` (or `[i]` for `check`).
 */
export function tableListField<T extends object>(
  fields: { readonly [K in keyof T]-?: Field<T[K]> },
  check: (item: T) => string | undefined = () => undefined,
  maxItems = 16,
): Field<readonly T[]> {
  const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const names = new Map(Object.keys(fields).map((camel) => [snake(camel), camel]));
  const known = [...names.keys()].join(", ");
  return {
    default: Object.freeze([]),
    parse(raw) {
      if (!Array.isArray(raw) || raw.length > maxItems) {
        return fail(`an array of at most ${maxItems} tables ([[…]] in TOML)`);
      }
      const out: T[] = [];
      for (let i = 0; i < raw.length; i++) {
        const table: unknown = raw[i];
        if (typeof table !== "object" || table === null || Array.isArray(table)) {
          return { ok: false, expected: "a table", at: `[${i}]` };
        }
        const item: Record<string, unknown> = {};
        for (const key of Object.keys(table)) {
          if (!names.has(key)) {
            return { ok: false, expected: `one of the keys ${known}`, at: `[${i}].${key}` };
          }
        }
        for (const [name, camel] of names) {
          const field = (fields as Record<string, Field<unknown>>)[camel];
          const value = (table as Record<string, unknown>)[name];
          if (value === undefined) {
            item[camel] = field.default;
            continue;
          }
          const result = field.parse(value);
          if (!result.ok) return { ok: false, expected: result.expected, at: `[${i}].${name}` };
          item[camel] = result.value;
        }
        const problem = check(item as T);
        if (problem !== undefined) return { ok: false, expected: problem, at: `[${i}]` };
        out.push(Object.freeze(item) as T);
      }
      return ok(Object.freeze(out));
    },
  };
}

/**
 * A sub-table key (`[section.key]` in TOML), checked against `fields` (snake_case keys in the
 * file, camelCase in the value; absent keys take their defaults). A failing key is reported at
 * `.key`. The default is the table of every field's default.
 */
export function tableField<T extends object>(
  fields: { readonly [K in keyof T]-?: Field<T[K]> },
): Field<T> {
  const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const byName = new Map<string, string>();
  for (const camel of Object.keys(fields)) {
    byName.set(snake(camel), camel);
    byName.set(camel, camel); // the typed value (defaults) goes through the same check
  }
  const known = Object.keys(fields).map(snake).join(", ");
  const defaults = Object.freeze(
    Object.fromEntries(
      Object.entries(fields).map(([k, f]) => [k, (f as Field<unknown>).default]),
    ),
  ) as T;
  return {
    default: defaults,
    parse(raw) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw) || raw instanceof Date) {
        return fail("a table");
      }
      const given = new Map<string, unknown>();
      for (const [key, value] of Object.entries(raw)) {
        const camel = byName.get(key);
        if (camel === undefined) {
          return { ok: false, expected: `one of the keys ${known}`, at: `.${key}` };
        }
        given.set(camel, value);
      }
      const out: Record<string, unknown> = {};
      for (const [camel, f] of Object.entries(fields) as [string, Field<unknown>][]) {
        if (!given.has(camel)) {
          out[camel] = f.default;
          continue;
        }
        const result = f.parse(given.get(camel));
        if (!result.ok) return { ok: false, expected: result.expected, at: `.${snake(camel)}` };
        out[camel] = result.value;
      }
      return ok(Object.freeze(out) as T);
    },
  };
}

/** Check for a Telegram chat: "" (none), a numeric id (negative for groups) or `@channelname`. */
export function telegramChatCheck(value: string): string | undefined {
  return value === "" || /^-?\d{1,20}$/.test(value) || /^@[A-Za-z][A-Za-z0-9_]{4,31}$/.test(value)
    ? undefined
    : `a Telegram chat id (digits, "-" for groups), "@channelname" or ""`;
}
