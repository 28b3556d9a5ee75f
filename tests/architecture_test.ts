/**
 * The frame of the house, read from the import graph: which part may import which.
 *
 * Every `.ts`/`.tsx` file under the project's code folders is read as text; its static imports,
 * re-exports, dynamic imports and `new URL(…, import.meta.url)` worker scripts are its edges. The
 * rules (drawn in `docs/ARCHITECTURE.md`):
 *
 * - A part imports only the parts below it in {@linkcode ALLOWED}: no arrow runs back up, and the
 *   table itself has no cycle.
 * - `lib/bitcoin/` is pure protocol code: it imports nothing outside itself, no package either.
 * - `routes/` reads snapshots and ports: never `stratum/` nor `lib/pool/`.
 * - Only the composition layer (`app/`) and the entry points read `lib/config/`.
 * - A part is imported through its face, `mod.ts`, except the parts in {@linkcode DIRECT_FACES}
 *   (their files are imported one by one so the Deploy mirror's module graph stays small), the
 *   `lib` root files, and worker scripts, test doubles and generated files.
 *
 * The checker is tested on a made-up graph first, so a rule that could never fire is caught too.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** A part of the tree: `lib/<folder>`, `lib` (files directly in lib/), or a top-level folder. */
type Part = string;

/**
 * What each part may import besides itself, lowest first. `app` is the composition layer; the
 * entry points (`main.ts`, `mirror.ts`), `tools/`, `bench/` and `tests/` sit above everything and
 * are not listed: they may import any part.
 */
export const ALLOWED: Readonly<Record<Part, readonly Part[]>> = {
  "lib/bitcoin": [],
  "lib/net": [],
  "lib": [],
  "lib/tls": ["lib/bitcoin"],
  "lib/sv2": ["lib/bitcoin"],
  "lib/admin": [],
  "lib/config": ["lib/bitcoin", "lib/net", "lib/admin"],
  "lib/node": ["lib/bitcoin", "lib"],
  "lib/pool": ["lib/bitcoin", "lib/net", "lib", "lib/node"],
  "lib/shares": ["lib/bitcoin", "lib/pool"],
  "stratum": ["lib/bitcoin", "lib/net", "lib", "lib/sv2", "lib/pool", "lib/shares"],
  "lib/status": ["lib/bitcoin", "lib/net", "lib", "lib/node"],
  "lib/auth": ["lib/bitcoin"],
  "lib/store": ["lib/bitcoin", "lib/pool", "lib/status", "lib/auth"],
  "lib/notify": ["lib/bitcoin", "lib/net", "lib", "lib/status", "lib/store"],
  "lib/discord": ["lib/bitcoin", "lib", "lib/pool", "lib/status", "lib/store", "lib/notify"],
  "static": [],
  "routes": ["lib/bitcoin", "lib", "lib/status", "lib/auth", "lib/store", "lib/admin", "static"],
  "lib/mirror": ["lib/bitcoin", "lib", "lib/status", "routes"],
  "app": [
    "lib/bitcoin",
    "lib/net",
    "lib",
    "lib/tls",
    "lib/sv2",
    "lib/admin",
    "lib/config",
    "lib/node",
    "lib/pool",
    "lib/shares",
    "stratum",
    "lib/status",
    "lib/auth",
    "lib/store",
    "lib/notify",
    "lib/discord",
    "static",
    "routes",
    "lib/mirror",
  ],
};

/**
 * Parts imported file by file rather than through `mod.ts`: the status-only mirror (`mirror.ts`,
 * Deno Deploy) reaches them, and their faces would pull the store, Clerk's jose and the pool's
 * HTTP routes into its module graph (`tests/mirror_deploy_test.ts` holds it to hono alone).
 */
export const DIRECT_FACES: ReadonlySet<Part> = new Set([
  "lib/status",
  "lib/mirror",
  "lib/store",
  "lib/auth",
  "routes",
  "static",
  "lib",
]);

/** Parts that sit above every other: they may import anything. */
const TOP = new Set(["main.ts", "mirror.ts", "tools", "bench", "tests"]);

/** Folders whose files are read (relative to the project root). */
const CODE_FOLDERS = ["app", "lib", "stratum", "routes", "tools", "bench", "static"];

/** One import edge: `from` imports `to` (project-relative paths, or a bare package name). */
export interface Edge {
  readonly from: string;
  readonly to: string;
}

/** The part a project-relative path belongs to. */
export function partOf(path: string): Part {
  const segments = path.split("/");
  if (segments.length === 1) return path; // main.ts, mirror.ts
  if (segments[0] === "lib") return segments.length === 2 ? "lib" : `lib/${segments[1]}`;
  return segments[0];
}

/** Finds the import specifiers in a module's source (comments and JSDoc examples are skipped). */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const patterns = [
    // import x from "…", import { a, b } from "…", import type …, export { … } from "…", export * from
    /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s*["']([^"']+)["']/gm,
    // import "…" (side effect)
    /^\s*import\s*["']([^"']+)["']/gm,
    // import("…")
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    // new URL("./worker.ts", import.meta.url): a worker script or a served file
    /new\s+URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** Resolves a relative specifier of `from` to a project-relative path; bare ones stay as they are. */
export function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const parts = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") parts.pop();
    else if (segment !== ".") parts.push(segment);
  }
  return parts.join("/");
}

/** Every rule an edge breaks, as one line each. */
export function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const source = partOf(from);
    if (TOP.has(source)) continue;
    const bare = !to.includes("/") ||
      !/^(app|lib|stratum|routes|tools|bench|tests|static)\//.test(to);
    if (bare && !/^(main|mirror)\.ts$/.test(to)) {
      if (source === "lib/bitcoin") out.push(`${from} → ${to}: lib/bitcoin imports no package`);
      continue;
    }
    const target = partOf(to);
    if (target === source) continue;
    if (target === "lib/config" && source !== "app") {
      out.push(`${from} → ${to}: only app/ reads lib/config`);
      continue;
    }
    if (source === "routes" && (target === "stratum" || target === "lib/pool")) {
      out.push(`${from} → ${to}: routes read snapshots and ports, not ${target}`);
      continue;
    }
    if (source === "lib/bitcoin") {
      out.push(`${from} → ${to}: lib/bitcoin imports nothing outside itself`);
      continue;
    }
    const file = to.split("/").at(-1)!;
    const internal = file === "worker.ts" || file === "testing.ts" ||
      file.endsWith(".generated.ts");
    if (!DIRECT_FACES.has(target) && !internal && !to.endsWith("/mod.ts")) {
      out.push(`${from} → ${to}: import ${target} through ${target}/mod.ts`);
      continue;
    }
    const allowed = ALLOWED[source];
    if (allowed === undefined) {
      out.push(`${from}: part ${source} is not in the table`);
    } else if (!allowed.includes(target)) {
      out.push(`${from} → ${to}: ${source} may not import ${target} (an arrow back up)`);
    }
  }
  return out;
}

/** Parts of the table that reach themselves through the table (there must be none). */
export function tableCycles(table: Readonly<Record<Part, readonly Part[]>>): Part[] {
  const cyclic: Part[] = [];
  for (const start of Object.keys(table)) {
    const seen = new Set<Part>();
    const stack = [...table[start]];
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (p === start) {
        cyclic.push(start);
        break;
      }
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...(table[p] ?? []));
    }
  }
  return cyclic;
}

async function codeFiles(): Promise<string[]> {
  const files: string[] = ["main.ts", "mirror.ts"];
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (/\.(ts|tsx)$/.test(entry.name)) files.push(path);
    }
  }
  for (const folder of CODE_FOLDERS) await walk(folder);
  return files;
}

async function projectEdges(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const from of await codeFiles()) {
    const source = await Deno.readTextFile(new URL(from, ROOT));
    for (const spec of importSpecifiers(source)) {
      edges.push({ from, to: resolveSpecifier(from, spec) });
    }
  }
  return edges;
}

Deno.test("the checker: specifiers are found (not in comments) and resolved", () => {
  const source = [
    "/**",
    ' * @example import { nope } from "../pool/jobs.ts";',
    " */",
    '// import { also } from "../../stratum/server.ts";',
    'import { a } from "./a.ts";',
    "import type {",
    "  B,",
    "  C,",
    '} from "../pool/types.ts";',
    'export * from "./d.ts";',
    'export { e } from "./e.ts";',
    'import "./side.ts";',
    'const lazy = await import("../node/rpc.ts");',
    'new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });',
    'import { Hono } from "hono";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(source), [
    "./a.ts",
    "../pool/types.ts",
    "./d.ts",
    "./e.ts",
    "hono",
    "./side.ts",
    "../node/rpc.ts",
    "./worker.ts",
  ]);
  assert.equal(resolveSpecifier("lib/shares/pool.ts", "../pool/types.ts"), "lib/pool/types.ts");
  assert.equal(resolveSpecifier("lib/pool/x.ts", "../../stratum/server.ts"), "stratum/server.ts");
  assert.equal(resolveSpecifier("routes/x.ts", "hono"), "hono");
  assert.equal(partOf("lib/histogram.ts"), "lib");
  assert.equal(partOf("lib/pool/jobs.ts"), "lib/pool");
  assert.equal(partOf("routes/pages/lookup.ts"), "routes");
});

Deno.test("the checker: each rule fires on a deliberately wrong import", () => {
  const wrong: Edge[] = [
    { from: "lib/bitcoin/block.ts", to: "lib/pool/mod.ts" }, // bitcoin reaching out
    { from: "lib/bitcoin/sha256.ts", to: "npm:some-package" }, // bitcoin importing a package
    { from: "lib/node/rpc.ts", to: "lib/pool/mod.ts" }, // the generator reaching up
    { from: "lib/pool/jobs.ts", to: "stratum/mod.ts" }, // the stratifier on the connector
    { from: "routes/api.ts", to: "lib/pool/mod.ts" }, // routes on live pool types
    { from: "routes/api.ts", to: "stratum/mod.ts" },
    { from: "lib/store/store.ts", to: "lib/config/mod.ts" }, // a library reading config
    { from: "lib/newpart/x.ts", to: "lib/bitcoin/mod.ts" }, // a part nobody placed
    { from: "stratum/server.ts", to: "lib/pool/jobs.ts" }, // past the face of lib/pool
  ];
  const found = violations(wrong);
  assert.equal(found.length, wrong.length, found.join("\n"));
  const fine: Edge[] = [
    { from: "lib/shares/pool.ts", to: "lib/pool/mod.ts" },
    { from: "stratum/session.ts", to: "lib/pool/mod.ts" },
    { from: "app/pool.ts", to: "lib/config/mod.ts" },
    { from: "app/pool.ts", to: "stratum/mod.ts" },
    { from: "routes/api.ts", to: "lib/status/snapshots.ts" }, // a direct face
    { from: "stratum/testing.ts", to: "lib/shares/testing.ts" }, // a test double
    { from: "main.ts", to: "lib/config/mod.ts" },
    { from: "tools/demo.ts", to: "app/pool.ts" },
    { from: "lib/pool/jobs.ts", to: "lib/pool/types.ts" },
    { from: "routes/api.ts", to: "hono" },
  ];
  assert.deepEqual(violations(fine), []);
  assert.deepEqual(tableCycles({ a: ["b"], b: ["a"], c: [] }).sort(), ["a", "b"]);
});

Deno.test("the import graph: no arrow runs back up, lib/bitcoin stands alone, only app/ reads config, faces are used", async () => {
  assert.deepEqual(tableCycles(ALLOWED), [], "the table of parts has no cycle");
  const edges = await projectEdges();
  assert.ok(edges.length > 300, `the graph was read (${edges.length} edges)`);
  const parts = new Set(edges.map((e) => partOf(e.from)));
  for (const part of parts) {
    assert.ok(TOP.has(part) || part in ALLOWED, `part ${part} is placed in the table`);
  }
  assert.deepEqual(violations(edges), []);
});
