/**
 * `deno task bench sockets`: what Deno itself costs per idle TCP connection, with no pool code.
 *
 * A bare server (a child process run from this file) accepts N loopback connections from this
 * process and holds them, once with nothing else and once with one pending `read` into a 512-byte
 * buffer each (what any server must keep to notice a miner's next line). Its RSS and heap growth
 * per connection, after a full GC, is the floor under the pool's "idle memory per miner".
 *
 * @module
 */

/** How the server holds each accepted connection. */
export type SocketHoldMode = "bare" | "pending-read";

/** Per-connection growth of the server process. */
export interface SocketFloor {
  readonly mode: SocketHoldMode;
  readonly connections: number;
  /** RSS growth per connection, KiB. */
  readonly rssKiB: number;
  /** JS heap in use, per connection, KiB. */
  readonly heapUsedKiB: number;
  /** JS heap reserved (committed), per connection, KiB. */
  readonly heapTotalKiB: number;
  /** ArrayBuffer and other external memory, per connection, KiB. */
  readonly externalKiB: number;
}

/** Options of {@link runSockets}. */
export interface SocketsOptions {
  /** Connections held (default 8,000; mind the 20,000 open files per process). */
  readonly connections: number;
  /** Progress and results. */
  readonly log: (line: string) => void;
}

/** Measures both hold modes; one server process each. */
export async function runSockets(options: SocketsOptions): Promise<SocketFloor[]> {
  const results: SocketFloor[] = [];
  for (const mode of ["bare", "pending-read"] as const) {
    const floor = await measure(mode, options.connections);
    options.log(
      `${mode.padEnd(12)} ${floor.connections} connections: RSS ${floor.rssKiB.toFixed(2)} KiB ` +
        `per connection (JS heap used ${floor.heapUsedKiB.toFixed(2)}, reserved ` +
        `${floor.heapTotalKiB.toFixed(2)}, external ${floor.externalKiB.toFixed(2)})`,
    );
    results.push(floor);
  }
  return results;
}

async function measure(mode: SocketHoldMode, connections: number): Promise<SocketFloor> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--serve",
      mode,
      String(connections),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("sockets bench: the server ended early");
      buffered += value;
    }
  };
  const { port } = JSON.parse(await nextLine()) as { port: number };
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < connections; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    return JSON.parse(await nextLine()) as SocketFloor;
  } finally {
    for (const conn of held) conn.close();
    await lines.cancel();
    await child.status;
  }
}

function rssKiB(): number {
  return Deno.memoryUsage().rss / 1024;
}

function fullGc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The child: accepts `connections`, holds them as `mode` says, prints its growth, exits. */
async function serve(mode: SocketHoldMode, connections: number): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const reads: Promise<number | null>[] = [];
  fullGc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rss0 = rssKiB();
  const heap0 = Deno.memoryUsage();
  console.log(JSON.stringify({ port: (listener.addr as Deno.NetAddr).port }));
  for (let i = 0; i < connections; i++) {
    const conn = await listener.accept();
    held.push(conn);
    if (mode === "pending-read") reads.push(conn.read(new Uint8Array(512)).catch(() => null));
  }
  // Let the allocator settle, then collect twice so only live memory is counted.
  await new Promise((resolve) => setTimeout(resolve, 500));
  fullGc();
  await new Promise((resolve) => setTimeout(resolve, 500));
  fullGc();
  const heap = Deno.memoryUsage();
  const floor: SocketFloor = {
    mode,
    connections,
    rssKiB: (rssKiB() - rss0) / connections,
    heapUsedKiB: (heap.heapUsed - heap0.heapUsed) / 1024 / connections,
    heapTotalKiB: (heap.heapTotal - heap0.heapTotal) / 1024 / connections,
    externalKiB: (heap.external - heap0.external) / 1024 / connections,
  };
  console.log(JSON.stringify(floor));
  for (const conn of held) conn.close();
  listener.close();
  await Promise.all(reads);
}

if (import.meta.main && Deno.args[0] === "--serve") {
  await serve(Deno.args[1] as SocketHoldMode, Number(Deno.args[2]));
}
