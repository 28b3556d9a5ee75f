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

/** The first `n` primes. */
function firstPrimes(n: number): bigint[] {
  const found: bigint[] = [];
  for (let c = 2n; found.length < n; c++) {
    if (found.every((p) => c % p !== 0n)) found.push(c);
  }
  return found;
}

/** ⌊x^(1/k)⌋ for a bigint x ≥ 0, by Newton's method from above. */
function integerRoot(x: bigint, k: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << (BigInt(x.toString(2).length) / k + 1n);
  for (;;) {
    const next = ((k - 1n) * r + x / r ** (k - 1n)) / k;
    if (next >= r) return r;
    r = next;
  }
}

/**
 * The first 32 bits of the fractional part of the `k`-th root of each prime, as signed 32-bit
 * numbers: ⌊root(p · 2^(32k))⌋ mod 2^32, exact in bigint.
 */
const rootFractions = (primes: readonly bigint[], k: bigint) =>
  primes.map((p) => Number(integerRoot(p << (32n * k), k) & 0xffffffffn) | 0);

/** Round constants (FIPS 180-4 §4.2.2): cube roots of the first 64 primes. */
const K = rootFractions(firstPrimes(64), 3n);

/** Initial hash value (FIPS 180-4 §5.3.3): square roots of the first 8 primes. */
const IV = rootFractions(firstPrimes(8), 2n);

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
 * The unrolled SHA-256 compression functions behind \`sha256.ts\` (which is their only user), and
 * the IV both start from: every round written out on local values, constants folded, one function
 * per kind of block a pool hashes over and over (any block, the padding block of a 64-byte
 * message, a first block from the IV, the second hash of a double hash, the tail block of an
 * 80-byte header).
 *
 * @module
 */

`;

/** The IV as an exported constant: `sha256.ts` starts every hash from it. */
const IV_EXPORT = `/** SHA-256 initial hash value (FIPS 180-4 §5.3.3). */
export const IV: Int32Array = Int32Array.of(${IV.map(lit).join(", ")});
`;

/** The generated module as the generator emits it (before `deno fmt`). */
export function generatedModule(): string {
  return PREAMBLE + IV_EXPORT + "\n" + SPECS.map(generate).join("\n");
}

/** Names of the generated functions, in file order. */
export function generatedFunctionNames(): string[] {
  return SPECS.map((spec) => spec.name);
}

/**
 * Formats `text` as a `.ts` file with the project's `deno fmt` settings until it stops changing
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
