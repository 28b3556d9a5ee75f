import assert from "node:assert/strict";
import { parse } from "smol-toml";
import type { Field } from "../lib/config/fields.ts";
import {
  describeValue,
  hexMaskField,
  integerField,
  isIpOrCidr,
  numberField,
  parseHostPort,
  stringField,
  stringListField,
  urlCheck,
  zmqEndpointCheck,
} from "../lib/config/fields.ts";
import {
  camelKey,
  CONFIG_DEFAULTS,
  CONFIG_SCHEMA,
  deepFreeze,
  SECRETS_SCHEMA,
  SECTION_NAMES,
  tomlKey,
} from "../lib/config/schema.ts";
import { closest, editDistance } from "../lib/config/suggest.ts";
import { CONFIG_KEYS, SECRET_KEYS } from "../lib/config/validate.ts";

const EXAMPLE_PATH = new URL("../config.example.toml", import.meta.url);

function fieldsOf(section: object): [string, Field<unknown>][] {
  return Object.entries(section) as [string, Field<unknown>][];
}

Deno.test("schema: every default passes its own check unchanged", () => {
  for (const section of SECTION_NAMES) {
    for (const [key, field] of fieldsOf(CONFIG_SCHEMA[section])) {
      const result = field.parse(field.default);
      assert.ok(result.ok, `${section}.${key} default is refused: ${JSON.stringify(result)}`);
      assert.deepEqual(result.value, field.default, `${section}.${key}`);
    }
  }
  for (const [key, field] of fieldsOf(SECRETS_SCHEMA)) {
    assert.ok(field.parse(field.default).ok, key);
  }
});

Deno.test("schema: camelCase and TOML spellings convert both ways for every key", () => {
  for (const section of SECTION_NAMES) {
    for (const key of Object.keys(CONFIG_SCHEMA[section])) {
      assert.match(tomlKey(key), /^[a-z][a-z0-9_]*$/, key);
      assert.equal(camelKey(tomlKey(key)), key);
    }
  }
  assert.equal(tomlKey("extranonce2Size"), "extranonce2_size");
  assert.equal(camelKey("max_connections_per_ip"), "maxConnectionsPerIp");
});

Deno.test("schema: the brief's named defaults", () => {
  assert.equal(CONFIG_DEFAULTS.server.statusListen, "127.0.0.1:8080");
  assert.equal(CONFIG_DEFAULTS.server.dataDir, "./data");
  assert.equal(CONFIG_DEFAULTS.stratum.listen, "0.0.0.0:3333");
  assert.equal(CONFIG_DEFAULTS.stratum.maxLineBytes, 16384);
  assert.equal(CONFIG_DEFAULTS.stratum.extranonce2Size, 4);
  assert.equal(CONFIG_DEFAULTS.stratum.versionRollingMask, 0x1fffe000);
  assert.equal(CONFIG_DEFAULTS.node.zmqHashblock, "tcp://127.0.0.1:28332");
  assert.equal(CONFIG_DEFAULTS.node.longpoll, true);
  assert.equal(CONFIG_DEFAULTS.node.refreshIntervalSeconds, 30);
  assert.equal(CONFIG_DEFAULTS.mining.poolFeePercent, 0);
  assert.equal(CONFIG_DEFAULTS.mining.poolTag, "/denopool/");
  assert.equal(CONFIG_DEFAULTS.mining.hashBackend, "auto");
  assert.equal(CONFIG_DEFAULTS.difficulty.targetSharesPerMinute, 15);
  assert.equal(CONFIG_DEFAULTS.auth.clerkSessionCookieName, "__session");
  assert.equal(CONFIG_DEFAULTS.discord.apiBaseUrl, "https://discord.com/api/v10");
  assert.equal(CONFIG_DEFAULTS.discord.offlineThresholdSeconds, 300);
  assert.deepEqual(
    [
      CONFIG_DEFAULTS.status.overviewRefreshSeconds,
      CONFIG_DEFAULTS.status.poolPageRefreshSeconds,
      CONFIG_DEFAULTS.status.nodeRefreshSeconds,
      CONFIG_DEFAULTS.status.serverRefreshSeconds,
      CONFIG_DEFAULTS.status.poolHashrateRefreshSeconds,
      CONFIG_DEFAULTS.status.blocksRefreshSeconds,
    ],
    [10, 10, 10, 10, 5, 3],
  );
  assert.ok(Object.isFrozen(CONFIG_DEFAULTS.stratum));
  assert.ok(Object.isFrozen(CONFIG_DEFAULTS.server.trustedProxies));
});

Deno.test("config.example.toml sets every key to its default, each under a comment", async () => {
  const text = await Deno.readTextFile(EXAMPLE_PATH);
  const doc = parse(text) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(doc), [...SECTION_NAMES], "sections, in schema order");
  for (const section of SECTION_NAMES) {
    assert.deepEqual(
      Object.keys(doc[section]),
      Object.keys(CONFIG_SCHEMA[section]).map(tomlKey),
      `keys of [${section}], in schema order`,
    );
    for (const [key, field] of fieldsOf(CONFIG_SCHEMA[section])) {
      const raw = doc[section][tomlKey(key)];
      const result = field.parse(raw);
      assert.ok(result.ok, `${section}.${tomlKey(key)} is refused`);
      assert.deepEqual(result.value, field.default, `${section}.${tomlKey(key)}`);
    }
  }
  // Every key line follows a comment line (the documentation of that key).
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (/^[a-z_0-9]+ = /.test(lines[i])) {
      assert.match(lines[i - 1], /^#/, `line ${i + 1} (${lines[i]}) has no comment above it`);
    }
  }
  // The secrets keys are documented at the end.
  for (const key of SECRET_KEYS) assert.match(text, new RegExp(`^#\\s+${key} = ""`, "m"), key);
});

Deno.test("fields: integers are whole and within range", () => {
  const field = integerField(4, 2, 8);
  assert.deepEqual(field.parse(8), { ok: true, value: 8 });
  assert.deepEqual(field.parse(9), { ok: false, expected: "an integer from 2 to 8" });
  assert.equal(field.parse(2.5).ok, false);
  assert.equal(field.parse("4").ok, false);
  assert.equal(field.parse(4n).ok, false);
});

Deno.test("fields: numbers honour an exclusive minimum and refuse NaN and infinity", () => {
  const field = numberField(1, { min: 0, minExclusive: true, max: 10 });
  assert.deepEqual(field.parse(0.001), { ok: true, value: 0.001 });
  assert.deepEqual(field.parse(0), {
    ok: false,
    expected: "a number greater than 0 and at most 10",
  });
  assert.equal(field.parse(NaN).ok, false);
  assert.equal(field.parse(Infinity).ok, false);
});

Deno.test("fields: strings refuse control characters and overlong values", () => {
  const field = stringField("", { maxBytes: 4 });
  assert.equal(field.parse("abcd").ok, true);
  assert.equal(field.parse("abcde").ok, false);
  assert.equal(field.parse("é€").ok, false, "5 UTF-8 bytes");
  assert.equal(field.parse("a\nb").ok, false);
  assert.equal(field.parse(1).ok, false);
});

Deno.test("fields: string lists check every item", () => {
  const field = stringListField([], "an IP address or CIDR range", isIpOrCidr);
  assert.deepEqual(field.parse(["10.0.0.0/8", "::1"]), { ok: true, value: ["10.0.0.0/8", "::1"] });
  const bad = field.parse(["10.0.0.1", "proxy"]);
  assert.deepEqual(bad, { ok: false, expected: "an IP address or CIDR range", at: "[1]" });
  assert.equal(field.parse("10.0.0.1").ok, false);
});

Deno.test("fields: version mask is 8 hex digits", () => {
  const field = hexMaskField(0);
  assert.deepEqual(field.parse("1fffe000"), { ok: true, value: 0x1fffe000 });
  assert.deepEqual(field.parse("FFFFFFFF"), { ok: true, value: 0xffffffff });
  assert.equal(field.parse("1fffe00").ok, false);
  assert.equal(field.parse("0x1fffe000").ok, false);
});

Deno.test("fields: host:port addresses", () => {
  assert.deepEqual(parseHostPort("0.0.0.0:3333"), { hostname: "0.0.0.0", port: 3333 });
  assert.deepEqual(parseHostPort(":3333"), { hostname: "0.0.0.0", port: 3333 });
  assert.deepEqual(parseHostPort("[::1]:8080"), { hostname: "::1", port: 8080 });
  assert.deepEqual(parseHostPort("pool.example.com:443"), {
    hostname: "pool.example.com",
    port: 443,
  });
  assert.deepEqual(parseHostPort("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 }, "any port");
  for (const bad of ["3333", "0.0.0.0", "0.0.0.0:65536", "256.1.1.1:80", "::1:80"]) {
    assert.equal(parseHostPort(bad), undefined, bad);
  }
});

Deno.test("fields: IPs, CIDRs, URLs and ZMQ endpoints", () => {
  assert.ok(isIpOrCidr("192.168.0.0/16"));
  assert.ok(isIpOrCidr("fd00::/8"));
  assert.ok(!isIpOrCidr("192.168.0.0/33"));
  assert.ok(!isIpOrCidr("01.2.3.4"));
  const http = urlCheck(["http:", "https:"], true);
  assert.equal(http(""), undefined);
  assert.equal(http("https://pool.example.com"), undefined);
  assert.equal(http("ftp://x"), `a http or https URL or ""`);
  assert.equal(zmqEndpointCheck("tcp://127.0.0.1:28332"), undefined);
  assert.notEqual(zmqEndpointCheck("ipc:///tmp/zmq"), undefined);
});

Deno.test("fields: found values are described briefly", () => {
  assert.equal(describeValue("x"), `"x"`);
  assert.equal(describeValue(12), "12");
  assert.equal(describeValue(true), "the boolean true");
  assert.equal(describeValue([]), "an empty array");
  assert.equal(describeValue({}), "a table");
  assert.equal(describeValue(undefined), "nothing");
  assert.equal(describeValue("a".repeat(200)).length, 80);
});

Deno.test("suggest: typos find their key; unrelated words find nothing", () => {
  assert.equal(editDistance("max_line_byte", "max_line_bytes"), 1);
  assert.equal(editDistance("lsiten", "listen"), 1, "a swap of neighbours is one edit");
  assert.equal(closest("max_line_byte", CONFIG_KEYS.map((k) => k.split(".")[1])), "max_line_bytes");
  assert.equal(closest("stratun", SECTION_NAMES), "stratum");
  assert.equal(closest("foo", SECTION_NAMES), undefined);
});

Deno.test("deepFreeze freezes nested objects and arrays", () => {
  const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
  assert.ok(Object.isFrozen(value.a.b));
  assert.ok(Object.isFrozen(value.a.b[1]));
  assert.throws(() => {
    (value.a as { b: unknown }).b = [];
  }, TypeError);
});
