/** The miner command: URL and argument parsing, display formats, reconnect after a pool restart. */

import assert from "node:assert/strict";
import {
  formatHashrate,
  formatProgress,
  MinerOptionsError,
  type MinerStats,
  parseMinerArgs,
  parseStratumUrl,
  runMiner,
} from "../tools/miner.ts";
import { StratumServer } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";

Deno.test("parseStratumUrl reads host, port and transport", () => {
  assert.deepEqual(parseStratumUrl("stratum+tcp://127.0.0.1:3333"), {
    host: "127.0.0.1",
    port: 3333,
    tls: false,
  });
  assert.deepEqual(parseStratumUrl("stratum+ssl://pool.example:3334"), {
    host: "pool.example",
    port: 3334,
    tls: true,
  });
  assert.deepEqual(parseStratumUrl("tcp://[::1]:3333"), { host: "::1", port: 3333, tls: false });
  assert.equal(parseStratumUrl("stratum+tls://h:1").tls, true);
  for (const bad of ["http://h:1", "stratum+tcp://h", "stratum+tcp://:3333", "nonsense", ""]) {
    assert.throws(() => parseStratumUrl(bad), MinerOptionsError, bad);
  }
});

Deno.test("parseMinerArgs maps flags to options and refuses bad ones", () => {
  const parsed = parseMinerArgs([
    "--url",
    "stratum+ssl://localhost:3334",
    "--user",
    "addr.rig",
    "--pass",
    "d=64",
    "--threads",
    "3",
    "--version-rolling",
    "--ca",
    "data/tls_cert.pem",
    "--duration",
    "30",
    "--suggest-difficulty",
    "0.5",
  ]);
  assert.deepEqual(parsed, {
    options: {
      url: "stratum+ssl://localhost:3334",
      user: "addr.rig",
      pass: "d=64",
      threads: 3,
      versionRolling: true,
      suggestDifficulty: 0.5,
      durationSeconds: 30,
    },
    caPath: "data/tls_cert.pem",
    insecure: false,
    help: false,
  });
  assert.equal(parseMinerArgs(["--help"]).help, true);
  assert.equal(parseMinerArgs(["--url", "tcp://h:1", "--user", "u", "--insecure"]).insecure, true);
  const bad: string[][] = [
    [],
    ["--user", "u"],
    ["--url", "tcp://h:1"],
    ["--url", "tcp://h:1", "--user", "u", "--threads", "0"],
    ["--url", "tcp://h:1", "--user", "u", "--threads", "1.5"],
    ["--url", "tcp://h:1", "--user", "u", "--duration", "-1"],
    ["--url", "tcp://h:1", "--user", "u", "--bogus"],
    ["--url", "ftp://h:1", "--user", "u"],
  ];
  for (const args of bad) {
    assert.throws(() => parseMinerArgs(args), MinerOptionsError, args.join(" "));
  }
});

Deno.test("formatHashrate and formatProgress", () => {
  assert.equal(formatHashrate(0), "0 H/s");
  assert.equal(formatHashrate(999), "999 H/s");
  assert.equal(formatHashrate(1234), "1.23 kH/s");
  assert.equal(formatHashrate(651_490), "651.49 kH/s");
  assert.equal(formatHashrate(2.5e12), "2.50 TH/s");
  const stats: MinerStats = {
    hashes: 10,
    hashrate: 1.5e6,
    accepted: 4,
    rejected: 1,
    blocks: 2,
    rejectReasons: { "low difficulty share": 1 },
    difficulty: 2 ** -12,
    jobId: "1f",
    connected: true,
    sessions: 1,
    elapsedMs: 1000,
    lastError: undefined,
  };
  assert.equal(
    formatProgress(stats),
    "1.50 MH/s | accepted 4 | rejected 1 | blocks 2 | diff 0.0002441 | job 1f",
  );
  assert.match(formatProgress({ ...stats, connected: false }), /\| disconnected$/);
});

Deno.test("runMiner refuses bad options before connecting", async () => {
  await assert.rejects(runMiner({ url: "http://h:1", user: "u" }), MinerOptionsError);
  await assert.rejects(
    runMiner({ url: "stratum+tcp://127.0.0.1:1", user: "u", threads: 0 }),
    MinerOptionsError,
  );
});

function startServer(port: number, initialDifficulty = 2 ** -14) {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialDifficulty,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 10,
    log: () => {},
  });
  server.start();
  return server;
}

Deno.test("runMiner reconnects when the pool restarts and mines on", async () => {
  let server = startServer(0, 2 ** -16);
  const port = server.port!;
  const controller = new AbortController();
  const events: string[] = [];
  let restarted: Promise<void> | undefined;
  let acceptedBeforeRestart = -1;
  try {
    const stats = await runMiner({
      url: `stratum+tcp://127.0.0.1:${port}`,
      user: `${TEST_ADDRESS}.rig`,
      signal: controller.signal,
      durationSeconds: 120, // a safety net only
      progressIntervalMs: 100,
      reconnectDelayMs: 100,
      log: (line) => events.push(line),
      onProgress: (p) => {
        if (restarted === undefined && p.accepted >= 1) {
          acceptedBeforeRestart = p.accepted;
          restarted = server.stop().then(() => {
            server = startServer(port, 2 ** -16);
          });
        }
        if (p.sessions >= 2 && p.accepted > acceptedBeforeRestart) controller.abort();
      },
    });
    assert.equal(stats.sessions, 2);
    assert.ok(stats.accepted > acceptedBeforeRestart);
    assert.equal(stats.rejected, 0, JSON.stringify(stats.rejectReasons));
    assert.ok(events.some((line) => line.startsWith("connection lost")), events.join("\n"));
    assert.equal(events.filter((line) => line.startsWith("connected to")).length, 2);
  } finally {
    await restarted;
    await server.stop();
  }
});
