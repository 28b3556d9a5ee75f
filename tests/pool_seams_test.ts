/**
 * The seams carry the job type: a block sink names the jobs it can build, and a Stratum server
 * wired with a job source whose jobs its sink cannot build does not type-check. The checks here
 * are `@ts-expect-error` lines (the test's type check fails if one of them compiles) plus one run
 * of the real wiring types.
 */

import assert from "node:assert/strict";
import type { StratumServerOptions } from "../stratum/server.ts";
import { StratumServer } from "../stratum/server.ts";
import type { BlockSink, Job, JobSource } from "../lib/pool/types.ts";
import type { JobManager, PoolJob } from "../lib/pool/jobs.ts";
import type { BlockSubmitter } from "../lib/pool/blocks.ts";
import { RecordingBlockSink, TestJobSource } from "../stratum/testing.ts";

type Wiring<J extends Job = Job> = Pick<StratumServerOptions<J>, "jobs" | "blocks">;

/** Never called: its body is the test, read by the type checker. */
function wirings(pool: JobManager, submitter: BlockSubmitter, tests: TestJobSource): unknown[] {
  const any = new RecordingBlockSink();
  // The pool's own pairing, and a sink of any job on pool jobs (it needs nothing more).
  const real: Wiring<PoolJob> = { jobs: pool, blocks: submitter };
  const loose: Wiring<PoolJob> = { jobs: pool, blocks: any };
  const testing: Wiring = { jobs: tests, blocks: any };
  // @ts-expect-error the submitter builds PoolJobs only: a plain job source cannot feed it
  const wrong: Wiring = { jobs: tests, blocks: submitter };
  // @ts-expect-error nor can a plain job source pose as a source of pool jobs
  const posing: Wiring<PoolJob> = { jobs: tests, blocks: submitter };
  // @ts-expect-error a sink of pool jobs is no sink of any job
  const widened: BlockSink = submitter;
  const source: JobSource = pool; // a source of pool jobs is a source of jobs
  return [real, loose, testing, wrong, posing, widened, source];
}

Deno.test("seams: a server over pool jobs is a server (the status side takes any)", () => {
  assert.equal(typeof wirings, "function");
  const server = new StratumServer({
    jobs: new TestJobSource(),
    blocks: new RecordingBlockSink(),
    resolvePayout: () => ({ error: "none" }),
    checker: { check: () => Promise.reject(new Error("not hashed")) },
    port: 0,
  });
  // Type level: StratumServer<PoolJob> is assignable to StratumServer (checked by compiling).
  const widen = (s: StratumServer<PoolJob>): StratumServer => s;
  assert.equal(typeof widen, "function");
  assert.equal(server.port, undefined, "not started");
});
