/**
 * Generates `lib/bitcoin/sha256_rounds.generated.ts`, the unrolled SHA-256 compression functions
 * behind `lib/bitcoin/sha256.ts`. Every round is written out with its working state in local
 * constants, the message schedule is computed on the fly into locals, and whatever is known in
 * advance (constant message words, an IV start state) is folded into literals, so no round reads
 * an array and a constant padding block costs only its 64 rounds.
 *
 * Each function is one compression. Fusing the three of a merkle node (or a header) into one body
 * was tried: V8 leaves a function that large to Maglev instead of TurboFan, and the mainnet share
 * check went from 9.4 to 13.6 µs. Code size matters the other way too: three calls of one general
 * function beat three specialised ones in isolation (instruction cache), but not in the share
 * check, where the specialised set measured 2 % faster.
 *
 *   deno run tools/gen_sha256.ts             prints the generated module (before `deno fmt`)
 *   deno run -A tools/gen_sha256.ts --write  rewrites the generated file (formatted)
 *   deno run -A tools/gen_sha256.ts --check  exits 1 when the file differs from what it writes
 *
 * `tests/bitcoin_sha256_words_test.ts` runs the check, so a hand edit of the generated file (or a
 * generator change without `--write`) fails the tests.
 *
 * @module
 */

/** Round constants (FIPS 180-4). */
const K = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
].map((k) => k | 0);

/** Initial hash value. */
const IV = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
].map((v) => v | 0);

/** A value during generation: a known 32-bit constant or the name of a local. */
type Val = Const | Local;
/** A known 32-bit constant. */
type Const = { readonly c: number };
/** A local of the generated code. */
type Local = { readonly v: string };

const isConst = (x: Val): x is Const => "c" in x;

/** A signed 32-bit constant as a hex literal. */
function lit(n: number): string {
  n |= 0;
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
const rotrS = (x: string, n: number) => `((${x} >>> ${n}) | (${x} << ${32 - n}))`;

/** σ0, σ1 (schedule) and Σ0, Σ1 (rounds): on constants folded, on locals as expressions. */
const SIGMA = {
  s0: [
    (x: number) => rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3),
    (x: string) => `(${rotrS(x, 7)} ^ ${rotrS(x, 18)} ^ (${x} >>> 3))`,
  ],
  s1: [
    (x: number) => rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10),
    (x: string) => `(${rotrS(x, 17)} ^ ${rotrS(x, 19)} ^ (${x} >>> 10))`,
  ],
  S0: [
    (x: number) => rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22),
    (x: string) => `(${rotrS(x, 2)} ^ ${rotrS(x, 13)} ^ ${rotrS(x, 22)})`,
  ],
  S1: [
    (x: number) => rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25),
    (x: string) => `(${rotrS(x, 6)} ^ ${rotrS(x, 11)} ^ ${rotrS(x, 25)})`,
  ],
} as const;

function sigma(which: keyof typeof SIGMA, x: Val): Val | string {
  const [onConst, onLocal] = SIGMA[which];
  return isConst(x) ? { c: onConst(x.c) | 0 } : onLocal((x as Local).v);
}

/** A sum of terms, constants folded into one literal, as an int32 expression (or a constant). */
function sum(terms: (Val | string)[]): Val | string {
  let c = 0;
  const parts: string[] = [];
  for (const t of terms) {
    if (typeof t === "string") parts.push(t);
    else if (isConst(t)) c = (c + t.c) | 0;
    else parts.push((t as Local).v);
  }
  if (parts.length === 0) return { c };
  if (c !== 0) parts.push(lit(c));
  // Sums of a few int32s are exact in a double; only the value stored needs the \`| 0\`.
  return `(${parts.join(" + ")})`;
}

/** Where the 16 message words come from. */
type WordSource = readonly (number | string)[];

/** What to generate: one compression with a given start state, message and output. */
interface Spec {
  readonly name: string;
  readonly doc: string;
  readonly params: string;
  /** Start state: the IV (folded) or expressions reading it. */
  readonly start: "iv" | readonly string[];
  /** Message words: constants, or expressions (evaluated once, at the top). */
  readonly words: WordSource;
  /** Output statements, given the 8 final-state expressions (start + working state). */
  readonly store: (finals: readonly string[]) => string[];
}

/** Generates one function from `spec`. */
function generate(spec: Spec): string {
  const lines: string[] = [];
  const emit = (line: string) => lines.push(`  ${line}`);
  let state: Val[];
  const startVals: Val[] = [];
  if (spec.start === "iv") {
    state = IV.map((c) => ({ c }));
    startVals.push(...state);
  } else {
    state = spec.start.map((expr, i) => {
      const name = "abcdefgh"[i] + "0";
      emit(`const ${name} = ${expr};`);
      return { v: name };
    });
    startVals.push(...state);
  }
  const w: Val[] = [];
  spec.words.forEach((src, i) => {
    if (typeof src === "number") {
      w.push({ c: src | 0 });
    } else {
      emit(`const w${i} = ${src};`);
      w.push({ v: `w${i}` });
    }
  });
  /** Materialises `value` in a new local `name` unless it is a constant. */
  const bind = (name: string, value: Val | string): Val => {
    if (typeof value !== "string") return value;
    emit(`const ${name} = ${value} | 0;`);
    return { v: name };
  };
  for (let i = 0; i < 64; i++) {
    if (i >= 16) {
      w[i] = bind(
        `w${i}`,
        sum([sigma("s1", w[i - 2]), w[i - 7], sigma("s0", w[i - 15]), w[i - 16]]),
      );
    }
    const [a, b, c, d, e, f, g, h] = state;
    let ch: Val | string;
    if (isConst(e) && isConst(f) && isConst(g)) ch = { c: (g.c ^ (e.c & (f.c ^ g.c))) | 0 };
    else if (isConst(f) && isConst(g)) ch = `(${ref(g)} ^ (${ref(e)} & ${lit(f.c ^ g.c)}))`;
    else ch = `(${ref(g)} ^ (${ref(e)} & (${ref(f)} ^ ${ref(g)})))`;
    let maj: Val | string;
    if (isConst(a) && isConst(b) && isConst(c)) {
      maj = { c: ((a.c & b.c) | (c.c & (a.c | b.c))) | 0 };
    } else maj = `((${ref(a)} & ${ref(b)}) | (${ref(c)} & (${ref(a)} | ${ref(b)})))`;
    const kw = isConst(w[i]) ? [{ c: (K[i] + (w[i] as { c: number }).c) | 0 }] : [
      { c: K[i] },
      w[i],
    ];
    const t1 = bind(`t${i}`, sum([h, sigma("S1", e), ch, ...kw]));
    const t2 = sum([sigma("S0", a), maj]);
    const na = bind(`a${i + 1}`, sum([t1, t2]));
    const ne = bind(`e${i + 1}`, sum([d, t1]));
    state = [na, a, b, c, ne, e, f, g];
  }
  const finals = state.map((x, i) => {
    const s = sum([startVals[i], x]);
    if (typeof s === "string") return `${s} | 0`;
    return isConst(s) ? lit(s.c) : s.v;
  });
  for (const line of spec.store(finals)) emit(line);
  return `/** ${spec.doc} */\nexport function ${spec.name}(${spec.params}): void {\n${
    lines.join("\n")
  }\n}\n`;
}

function ref(x: Val): string {
  return isConst(x) ? lit(x.c) : (x as Local).v;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** `array[offset + i]` as source text, without the `+ 0`s. */
const at = (array: string, offset: string, i: number) =>
  offset === "0" ? `${array}[${i}]` : `${array}[${offset}${i === 0 ? "" : ` + ${i}`}]`;
const wordsFrom = (array: string, offset: string) => range(16).map((i) => at(array, offset, i));
const writeBack = (array: string, offset: string) => (finals: readonly string[]) =>
  finals.map((f, i) => `${at(array, offset, i)} = ${f};`);

/** The functions `lib/bitcoin/sha256.ts` imports from the generated file. */
export const SPECS: readonly Spec[] = [
  {
    name: "compressWords",
    doc: "Compresses the 16 message words `w[o..o+15]` into `state` (in place).",
    params: "state: Int32Array, w: Int32Array, o: number",
    start: range(8).map((i) => `state[${i}]`),
    words: wordsFrom("w", "o"),
    store: writeBack("state", "0"),
  },
  {
    name: "compressPad64",
    doc: "Compresses the constant padding block of a 64-byte message into `state` (in place).",
    params: "state: Int32Array",
    start: range(8).map((i) => `state[${i}]`),
    words: [0x80000000, ...range(14).map(() => 0), 512],
    store: writeBack("state", "0"),
  },
  {
    name: "compressIvWords",
    doc: "Compresses `w[o..o+15]` from the IV into `out[oo..oo+7]` (a message's first block).",
    params: "w: Int32Array, o: number, out: Int32Array, oo: number",
    start: "iv",
    words: wordsFrom("w", "o"),
    store: writeBack("out", "oo"),
  },
  {
    name: "hashDigestWords",
    doc:
      "SHA-256 of the 32-byte message `src[so..so+7]` (a digest, as words) into `dst[do_..do_+7]`.",
    params: "src: Int32Array, so: number, dst: Int32Array, do_: number",
    start: "iv",
    words: [
      ...range(8).map((i) => at("src", "so", i)),
      0x80000000,
      ...range(6).map(() => 0),
      256,
    ],
    store: writeBack("dst", "do_"),
  },
  {
    name: "compressHeaderTail",
    doc:
      "Compresses the last block of an 80-byte message (`w[o..o+3]`, then padding) into `state`.",
    params: "state: Int32Array, w: Int32Array, o: number",
    start: range(8).map((i) => `state[${i}]`),
    words: [...wordsFrom("w", "o").slice(0, 4), 0x80000000, ...range(10).map(() => 0), 640],
    store: writeBack("state", "0"),
  },
];

/** The generated file, relative to this script. */
export const GENERATED_FILE: URL = new URL(
  "../lib/bitcoin/sha256_rounds.generated.ts",
  import.meta.url,
);

/** The opening of the generated file: what it is, where it comes from, how to redo it. */
const PREAMBLE =
  `// GENERATED by tools/gen_sha256.ts: do not edit by hand. Change the generator and run
// \`deno run -A tools/gen_sha256.ts --write\`; its \`--check\` (run by
// tests/bitcoin_sha256_words_test.ts) fails when this file differs from what it writes.

/**
 * The unrolled SHA-256 compression functions behind \`sha256.ts\` (which is their only user): every
 * round written out on local values, constants folded, one function per kind of block a pool
 * hashes over and over (any block, the padding block of a 64-byte message, a first block from the
 * IV, the second hash of a double hash, the tail block of an 80-byte header).
 *
 * @module
 */

`;

/** The generated module as the generator emits it (before \`deno fmt\`). */
export function generatedModule(): string {
  return PREAMBLE + SPECS.map(generate).join("\n");
}

/** Names of the generated functions, in file order. */
export function generatedFunctionNames(): string[] {
  return SPECS.map((spec) => spec.name);
}

/**
 * Formats `text` as a \`.ts\` file with the project's \`deno fmt\` settings until it stops changing
 * (one pass may drop parentheses and the next re-wrap the lines). Needs run, read and write access.
 */
async function format(text: string): Promise<string> {
  const config = new URL("../deno.json", import.meta.url).pathname;
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(path, text);
    for (let pass = 0; pass < 4; pass++) {
      const before = await Deno.readTextFile(path);
      const fmt = new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--quiet", "--config", config, path],
      });
      if (!(await fmt.output()).success) throw new Error(`deno fmt failed on ${path}`);
      const after = await Deno.readTextFile(path);
      if (after === before) return after;
    }
    throw new Error("deno fmt does not settle on the generated module");
  } finally {
    await Deno.remove(path);
  }
}

let formatted: Promise<string> | undefined;

/** The generated file's exact text: {@linkcode generatedModule}, formatted (once per process). */
export function generatedFileText(): Promise<string> {
  return formatted ??= format(generatedModule());
}

/** True when the file at `path` (default: the generated file) is exactly what `--write` writes. */
export async function isCurrent(path: string | URL = GENERATED_FILE): Promise<boolean> {
  return await Deno.readTextFile(path) === await generatedFileText();
}

if (import.meta.main) {
  const mode = Deno.args[0];
  const shown = "lib/bitcoin/sha256_rounds.generated.ts";
  if (mode === "--write") {
    await Deno.writeTextFile(GENERATED_FILE, await generatedFileText());
    console.log(`${shown}: written`);
  } else if (mode === "--check") {
    if (!(await isCurrent())) {
      console.error(`${shown}: differs from what tools/gen_sha256.ts writes (run it with --write)`);
      Deno.exit(1);
    }
    console.log(`${shown}: current`);
  } else if (mode === undefined) {
    console.log(generatedModule());
  } else {
    console.error("usage: deno run -A tools/gen_sha256.ts [--write | --check]");
    Deno.exit(2);
  }
}
