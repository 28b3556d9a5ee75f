/** The Stratum server over TLS: handshake, work and a share, counted as a TLS connection. */

import assert from "node:assert/strict";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { StratumServer } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TestJobSource,
  TestMiner,
} from "../stratum/testing.ts";

Deno.test("a miner over TLS subscribes, authorizes, gets work, and is counted as TLS", async () => {
  const { certPem, keyPem } = await generateSelfSigned();
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    tls: { port: 0, cert: certPem, key: keyPem },
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialWorkDelayMs: 10,
    log: () => {},
  });
  server.start();
  const miner = await TestMiner.connectTls(server.tlsPort!, certPem);
  try {
    const { notify } = await miner.handshake();
    assert.equal(notify.params![0], "1");
    assert.deepEqual(
      { plain: server.counts().plain, tls: server.counts().tls },
      { plain: 0, tls: 1 },
    );
    assert.equal(server.registry.list(Date.now())[0].tls, true);
  } finally {
    await server.stop();
    miner.close();
    await miner.closed;
  }
});
