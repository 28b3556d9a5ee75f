/**
 * The saved-workers page in headless Chromium on a live pool: a bcoin regtest node, the whole pool
 * from a TOML config with Clerk pointed at a local JWKS stand-in, and a real Stratum miner. Clerk's
 * browser script is unreachable (its frontend API is a closed port), so the page must work on the
 * session cookie alone: the test sets `__session` in the browser, saves the worker with the page's
 * form, sees it online with the pool's numbers and a 24 h chart, switches its notifications off,
 * removes it, and signs out. Screenshots go to `artifacts/screenshots/`.
 */

import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { startRegtestNode } from "./helpers/regtest.ts";
import { launchBrowser, openPage, screenshot, VIEWPORTS } from "./helpers/browser.ts";
import { freePort } from "./helpers/ports.ts";
import { startClerkStandIn, TEST_ISSUER } from "./auth_fixture.ts";
import { loadConfig } from "../lib/config/load.ts";
import { type RunningPool, startPool } from "../app/pool.ts";
import { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import { encodeSegwitAddress } from "../lib/bitcoin/bech32.ts";
import { workerNameHash } from "../lib/store/store.ts";
import { censorWorker } from "../lib/status/censor.ts";
import { difficulty, integer } from "../static/format.js";
import { waitUntil } from "./helpers/wait.ts";

const WORKER = `${encodeSegwitAddress("bcrt", 0, new Uint8Array(20).fill(11))}.browser`;
const USER = "user_browser";
// A publishable key whose frontend API is a closed local port: Clerk's script never loads.
const CLERK_PORT = freePort();
const CLERK_ORIGIN = `https://127.0.0.1:${CLERK_PORT}`;
const PUBLISHABLE_KEY = `pk_test_${btoa(`127.0.0.1:${CLERK_PORT}$`)}`;

Deno.test({
  name:
    "saved workers in a browser: save, online with numbers, chart, notify switch, remove, sign out",
  sanitizeOps: false, // bcoin and Chromium keep timers and pipes of their own
  sanitizeResources: false,
  async fn(t) {
    const clerk = await startClerkStandIn();
    const node = await startRegtestNode();
    const dir = await Deno.makeTempDir({ prefix: "denopool-sw-browser-" });
    const browser = await launchBrowser();
    let pool: RunningPool | undefined;
    let miner: StratumClient | undefined;
    try {
      await node.mine(1);
      const configPath = `${dir}/config.toml`;
      const secretsPath = `${dir}/secrets.toml`;
      await Deno.writeTextFile(
        configPath,
        stringify({
          server: { data_dir: dir, status_listen: "127.0.0.1:0" },
          stratum: { listen: "127.0.0.1:0" },
          node: {
            network: "regtest",
            rpc_url: node.rpcUrl,
            zmq_hashblock: "",
            zmq_rawblock: "",
            refresh_interval_seconds: 30,
          },
          difficulty: { start: 0.000001, min: 0.000001 },
          auth: { clerk_jwks_url: clerk.jwksUrl, clerk_issuer: TEST_ISSUER },
        }),
      );
      await Deno.writeTextFile(
        secretsPath,
        stringify({
          rpc_user: "u",
          rpc_password: node.apiKey,
          clerk_publishable_key: PUBLISHABLE_KEY,
        }),
      );
      await Deno.chmod(secretsPath, 0o600);
      pool = await startPool(await loadConfig({ configPath, secretsPath }), { log: () => {} });
      const base = `http://127.0.0.1:${pool.status.http!.port}`;
      const token = await clerk.sign(USER);
      const store = pool.persistence.store;
      const hash = workerNameHash(WORKER);

      miner = await StratumClient.connect({ host: "127.0.0.1", port: pool.stratum.port! });
      assert.equal((await miner.subscribe("browser-test/1")).error, null);
      assert.equal((await miner.authorize(WORKER, "x")).result, true);
      await miner.waitFor("mining.notify", () => true, 10_000);
      const share = findShare(miner, { maxNonces: 1 << 22 });
      assert.ok(share, "a share within the nonce budget");
      assert.equal((await miner.submit(WORKER, share)).result, true);

      const { page, errors, close } = await openPage(browser.browser);
      try {
        await page.context().addCookies([{ name: "__session", value: token, url: base }]);

        await t.step(
          "the page loads on the cookie alone and saves a worker by its form",
          async () => {
            const response = await page.goto(`${base}/saved-workers`);
            assert.equal(response?.status(), 200);
            assert.match(response!.headers()["content-security-policy"], new RegExp(CLERK_ORIGIN));
            await page.waitForSelector('#saved-workers[data-state="signed-in"]');
            assert.equal(await page.isVisible("#sign-out"), true, "a sign-out link");
            assert.equal(
              await page.isVisible("#clerk-unavailable"),
              false,
              "signed in: no warning",
            );
            await page.fill("#save-worker-name", WORKER);
            await Promise.all([
              page.waitForURL(`${base}/saved-workers`),
              page.click("#save-worker button[type=submit]"),
            ]);
            await page.waitForSelector(`tr[data-hash="${hash}"]`);
            const saved = await store.savedWorkers.list(USER);
            assert.deepEqual(saved.map((w) => [w.hash, w.name]), [[hash, censorWorker(WORKER)]]);
          },
        );

        await t.step("the saved worker is online with the pool's numbers and a chart", async () => {
          // History: the sampler's minute now, and an hour of earlier minutes as if mined then.
          await pool!.persistence.sample();
          const minute = Math.floor(Date.now() / 60_000);
          for (let m = minute - 60; m < minute - 30; m++) {
            await store.history.putWorker(
              hash,
              { minute: m, hashrate: 1e6 * (1 + (m % 7)), bestDifficulty: 0.001 },
              new Date(m * 60_000),
            );
          }
          await page.reload();
          const row = `tr[data-hash="${hash}"]`;
          await page.waitForSelector(`${row}[data-online="1"]`);
          const api = await (await fetch(`${base}/api/saved-workers`, {
            headers: { cookie: `__session=${token}` },
          })).json();
          const entry = api.online_workers[0];
          const text = async (sel: string) => (await page.textContent(`${row} ${sel}`))?.trim();
          assert.equal(await text(".name"), censorWorker(WORKER));
          assert.equal(await text(".status"), "online");
          assert.equal(await text(".accepted"), integer(entry.accepted));
          assert.equal(entry.accepted, 1);
          assert.equal(await text(".best"), difficulty(entry.best_difficulty));
          assert.notEqual(await text(".hashrate"), "–", "a hashrate is shown");
          assert.match(
            (await page.textContent("#saved-summary")) ?? "",
            /^1 of 1 online · 1\/64 saved$/,
          );
          const stored = await store.history.worker(hash);
          await page.waitForSelector(`${row} svg[data-points="${stored.length}"]`);
          const d = await page.getAttribute(`${row} svg path.line`, "d");
          // Two segments: the hour of history (joined minutes) and the current minute (a dash).
          assert.match(d ?? "", /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){29}(M[\d.]+,[\d.]+(h2|L.*))$/);
          await screenshot(page, "saved-workers-online-desktop");
        });

        await t.step("notifications switch off and stay off after a reload", async () => {
          const box = `tr[data-hash="${hash}"] input.notify`;
          assert.equal(await page.isChecked(box), true);
          await page.click(box);
          await waitUntil(
            async () => (await store.savedWorkers.list(USER))[0].notifyEnabled === false,
            "notify off in the store",
          );
          await page.reload();
          await page.waitForSelector(box);
          assert.equal(await page.isChecked(box), false);
        });

        await t.step("on a phone the list scrolls sideways instead of overflowing", async () => {
          await page.setViewportSize(VIEWPORTS.phone);
          await screenshot(page, "saved-workers-online-phone");
          const overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          );
          assert.equal(overflow, 0);
          await page.setViewportSize(VIEWPORTS.desktop);
        });

        await t.step("remove takes it off the list and out of the store", async () => {
          await page.click(`tr[data-hash="${hash}"] button.remove`);
          await page.waitForSelector(`tr[data-hash="${hash}"]`, { state: "detached" });
          assert.match((await page.textContent("#saved-workers")) ?? "", /No saved workers yet/);
          assert.deepEqual(await store.savedWorkers.list(USER), []);
          assert.deepEqual(await store.savedWorkers.usersWhoSaved(hash), []);
        });

        await t.step("sign out clears the cookie and goes home", async () => {
          await Promise.all([page.waitForURL(`${base}/`), page.click("#sign-out")]);
          const cookies = await page.context().cookies(base);
          assert.equal(cookies.find((c) => c.name === "__session"), undefined);
          await page.goto(`${base}/saved-workers`);
          await page.waitForSelector('#saved-workers[data-state="signed-out"]');
          assert.equal(await page.isVisible("#sign-out"), false);
          assert.equal(await page.isVisible("#save-card"), false);
          await page.waitForSelector("#clerk-unavailable:not(.hidden)", { timeout: 15_000 });
          await screenshot(page, "saved-workers-signed-out-desktop");
        });

        // Clerk's script failing to load is expected here (each failure is a failed request
        // naming it plus a console line that does not), and so is the signed-out list's 401.
        const refused = "console: Failed to load resource: net::ERR_CONNECTION_REFUSED";
        const clerkFailures = errors.filter((e) => e.includes(CLERK_ORIGIN)).length;
        assert.ok(clerkFailures > 0, "the Clerk script really was unreachable");
        assert.equal(errors.filter((e) => e === refused).length, clerkFailures);
        const unexpected = errors.filter((e) =>
          !e.includes(CLERK_ORIGIN) && e !== refused &&
          !(e === `http 401: ${base}/api/saved-workers` || /status of 401/.test(e))
        );
        assert.deepEqual(unexpected, []);
      } finally {
        await close();
      }
    } finally {
      miner?.close();
      await browser.close();
      await pool?.stop();
      await node.stop();
      await clerk.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
