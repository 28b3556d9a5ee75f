/**
 * Checks parsed TOML documents against the schema: every key known, every value of the right
 * type and range. Cross-key rules (addresses, paths, "required when") live in `load.ts`.
 *
 * @module
 */

import { ConfigError, expectedError } from "./errors.ts";
import { describeValue, type Field } from "./fields.ts";
import {
  camelKey,
  CONFIG_SCHEMA,
  type ConfigSections,
  type Secrets,
  SECRETS_SCHEMA,
  SECTION_NAMES,
  type SectionName,
  tomlKey,
} from "./schema.ts";
import { closest } from "./suggest.ts";

/** A parsed TOML table. */
export type TomlTable = Record<string, unknown>;

/** Every `section.key` of `config.toml`, in TOML spelling. */
export const CONFIG_KEYS: readonly string[] = Object.freeze(
  SECTION_NAMES.flatMap((section) =>
    Object.keys(CONFIG_SCHEMA[section]).map((key) => `${section}.${tomlKey(key)}`)
  ),
);

/** Every key of `secrets.toml`, in TOML spelling. */
export const SECRET_KEYS: readonly string[] = Object.freeze(
  Object.keys(SECRETS_SCHEMA).map(tomlKey),
);

function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function isSection(name: string): name is SectionName {
  return Object.hasOwn(CONFIG_SCHEMA, name);
}

function fieldOf(table: object, tomlName: string): Field<unknown> | undefined {
  const camel = camelKey(tomlName);
  // Only the canonical snake_case spelling names a key (`maxLineBytes` in the file is unknown).
  if (tomlKey(camel) !== tomlName || !Object.hasOwn(table, camel)) return undefined;
  return (table as Record<string, Field<unknown>>)[camel];
}

/** Explains an unknown key of `config.toml` (dotted `path`) with the likeliest intended key. */
function unknownConfigKey(file: string, path: string): ConfigError {
  const dot = path.indexOf(".");
  const section = dot < 0 ? "" : path.slice(0, dot);
  const name = dot < 0 ? path : path.slice(dot + 1);
  let hint: string | undefined;
  const snake = tomlKey(name);
  if (SECRET_KEYS.includes(snake)) {
    hint = "secrets belong in secrets.toml";
  } else if (snake !== name && CONFIG_KEYS.includes(`${section}.${snake}`)) {
    hint = `keys are snake_case: did you mean ${section}.${snake}?`;
  } else {
    const sameName = CONFIG_KEYS.find((k) => k.endsWith(`.${name}`));
    const inSection = isSection(section)
      ? closest(name, Object.keys(CONFIG_SCHEMA[section]).map(tomlKey))
      : undefined;
    const guess = inSection !== undefined
      ? `${section}.${inSection}`
      : sameName ?? closest(path, CONFIG_KEYS);
    if (guess !== undefined) hint = `did you mean ${guess}?`;
  }
  return new ConfigError({ file, key: path, reason: `unknown key${hint ? `; ${hint}` : ""}` });
}

/**
 * The array element (or an item's key) a `FieldResult.at` of the form "[i]" or "[i].key" points
 * at, or a sub-table's key for ".key".
 */
export function elementAt(raw: unknown, at: string): unknown {
  const member = /^\.(\w+)$/.exec(at);
  if (member !== null) {
    return typeof raw === "object" && raw !== null
      ? (raw as Record<string, unknown>)[member[1]]
      : raw;
  }
  const match = /^\[(\d+)\](?:\.(\w+))?$/.exec(at);
  const index = Number(match?.[1]);
  if (!Array.isArray(raw) || !Number.isInteger(index)) return raw;
  const item: unknown = raw[index];
  const key = match?.[2];
  if (key === undefined || typeof item !== "object" || item === null) return item;
  return (item as Record<string, unknown>)[key];
}

/** Checks one table against field definitions; `prefix` is "section." or "". */
function checkTable<S>(
  file: string,
  prefix: string,
  table: TomlTable,
  fields: { readonly [K in keyof S]-?: Field<S[K]> },
  unknown: (path: string) => ConfigError,
): S {
  for (const name of Object.keys(table)) {
    if (fieldOf(fields, name) === undefined) throw unknown(prefix + name);
  }
  const out: Record<string, unknown> = {};
  for (const [camel, field] of Object.entries(fields) as [string, Field<unknown>][]) {
    const name = tomlKey(camel);
    if (!Object.hasOwn(table, name)) {
      out[camel] = field.default;
      continue;
    }
    const raw = table[name];
    const result = field.parse(raw);
    if (!result.ok) {
      const found = describeValue(result.at === undefined ? raw : elementAt(raw, result.at));
      throw expectedError(file, prefix + name + (result.at ?? ""), result.expected, found);
    }
    out[camel] = result.value;
  }
  return out as S;
}

/** Checks a parsed `config.toml`; absent sections and keys take their defaults. */
export function validateConfigDocument(file: string, doc: TomlTable): ConfigSections {
  for (const name of Object.keys(doc)) {
    if (isSection(name)) continue;
    if (isTable(doc[name])) {
      const guess = closest(name, SECTION_NAMES);
      const reason = `unknown section [${name}]${guess ? `; did you mean [${guess}]?` : ""}`;
      throw new ConfigError({ file, key: name, reason });
    }
    throw unknownConfigKey(file, name);
  }
  const out: Record<string, unknown> = {};
  for (const section of SECTION_NAMES) {
    const raw = Object.hasOwn(doc, section) ? doc[section] : {};
    if (!isTable(raw)) {
      throw expectedError(file, section, `a table [${section}]`, describeValue(raw));
    }
    out[section] = checkTable(
      file,
      `${section}.`,
      raw,
      CONFIG_SCHEMA[section] as Record<string, Field<unknown>>,
      (path) => unknownConfigKey(file, path),
    );
  }
  return out as unknown as ConfigSections;
}

/** Checks a parsed `secrets.toml` (flat keys, no sections). */
export function validateSecretsDocument(file: string, doc: TomlTable): Secrets {
  return checkTable<Secrets>(file, "", doc, SECRETS_SCHEMA, (name) => {
    const guess = closest(name, SECRET_KEYS);
    const elsewhere = CONFIG_KEYS.find((k) => k.endsWith(`.${name}`) || k === name);
    const hint = guess !== undefined
      ? `; did you mean ${guess}?`
      : elsewhere !== undefined
      ? `; ${elsewhere} belongs in the config file`
      : `; known keys: ${SECRET_KEYS.join(", ")}`;
    return new ConfigError({ file, key: name, reason: `unknown key${hint}` });
  });
}
