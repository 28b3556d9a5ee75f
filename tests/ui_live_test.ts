/**
 * The web UI in headless Chromium against a live pool: a real regtest node (bcoin), the whole pool
 * from a TOML config, and a Stratum miner sending real shares and a real block. Every page loads
 * without console errors, shows the numbers the JSON API serves, refreshes from it, draws the
 * chart, and the worker lookup finds the miner by the name typed into the form. Screenshots of
 * every page at desktop and phone width go to `artifacts/screenshots/`.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";
import { launchBrowser, openPage, screenshot, VIEWPORTS } from "./helpers/browser.ts";
import { connectMiner, regtestP2wpkh } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";
import type { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import { censorWorker } from "../lib/status/censor.ts";
import { blockStatus, integer } from "../static/format.js";

const MINER = `${regtestP2wpkh(7)}.bitaxe`;

const PAGES = ["/", "/pool", "/node", "/server", "/blocks", "/worker", "/help", "/saved-workers"];

let extranonce2 = 0;

/**
 * Submits one share on the current job. At the test pool's tiny share difficulty on regtest, a
 * share is often a block too, which is what the blocks table wants; a share that loses the race
 * with a new block is retried on the next job.
 */
async function submitShare(client: StratumClient): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const share = findShare(client, { extranonce2Start: ++extranonce2, maxNonces: 1 << 20 });
    assert.ok(share, "a share within the nonce budget");
    const reply = await client.submit(MINER, share);
    if (reply.result === true) return;
    await client.waitFor("mining.notify", () => true, 10_000);
  }
  assert.fail("no share accepted in 5 attempts");
}

async function api(base: string, path: string): Promise<Record<string, unknown>> {
  const r = await fetch(base + path);
  assert.equal(r.status, 200, path);
  return await r.json();
}

/** Waits for the page's first JSON refresh (pages that poll mark `data-refreshed`). */
async function refreshed(page: Page): Promise<void> {
  const polls = await page.getAttribute("body", "data-poll");
  if (polls) await page.waitForSelector("body[data-refreshed]", { timeout: 15_000 });
}

Deno.test({
  name: "the web UI on a live pool: every page, live numbers, chart, worker lookup, screenshots",
  sanitizeOps: false, // bcoin and Chromium keep timers and pipes of their own
  sanitizeResources: false,
  async fn(t) {
    const node = await startRegtestNode();
    await node.mine(3);
    let tp: TestPool | undefined;
    let client: StratumClient | undefined;
    const browser = await launchBrowser();
    try {
      tp = await startTestPool(node, {
        status: {
          overview_refresh_seconds: 1,
          pool_page_refresh_seconds: 1,
          node_refresh_seconds: 1,
          server_refresh_seconds: 1,
          pool_hashrate_refresh_seconds: 1,
          blocks_refresh_seconds: 1,
        },
        mining: { pool_fee_percent: 0 },
      });
      const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
      client = await connectMiner(tp.port, MINER, { agent: "cpuminer/2.5.1" });
      for (let i = 0; i < 4; i++) await submitShare(client);
      await waitUntil(() => tp!.blocks.length >= 1, "a found block");
      await waitUntil(async () => {
        const o = await api(base, "/api/overview");
        const h = await api(base, "/api/pool-hashrate?include_history=1");
        const history = h.pool_hashrate_history as unknown[] | undefined;
        return (o.workers as unknown[]).length === 1 && (history?.length ?? 0) >= 2;
      }, "the worker in the overview and two history samples");

      await t.step("every page loads with no console errors, desktop and phone", async () => {
        for (const [size, scheme] of [["desktop", "light"], ["phone", "dark"]] as const) {
          const { page, errors, close } = await openPage(browser.browser, VIEWPORTS[size], scheme);
          try {
            for (const path of PAGES) {
              const response = await page.goto(base + path);
              assert.equal(response?.status(), 200, path);
              const headers = response!.headers();
              assert.match(headers["content-security-policy"], /frame-ancestors 'none'/, path);
              assert.equal(headers["x-content-type-options"], "nosniff", path);
              assert.equal(headers["referrer-policy"], "no-referrer", path);
              await refreshed(page);
              const name = path === "/" ? "overview" : path.slice(1);
              await screenshot(page, `${name}-${size}`);
            }
            assert.deepEqual(errors, [], `${size}: no console errors or failed requests`);
          } finally {
            await close();
          }
        }
      });

      await t.step("the overview shows the API's live numbers and draws the chart", async () => {
        const { page, errors, close } = await openPage(browser.browser);
        try {
          await page.goto(base + "/");
          await refreshed(page);
          const overview = await api(base, "/api/overview");
          const hashrate = await api(base, "/api/pool-hashrate");
          const text = (sel: string) => page.textContent(sel).then((s) => s?.trim());
          assert.equal(
            await text('[data-k="overview:active_miners"]'),
            integer(overview.active_miners),
          );
          assert.equal(
            await text('[data-k="hashrate:block_height"]'),
            integer(hashrate.block_height),
          );
          const workers = await page.$$eval(
            'tbody[data-list="overview:workers"] td[data-c="display_name"]',
            (tds) => tds.map((td) => td.textContent),
          );
          assert.deepEqual(workers, [censorWorker(MINER)]);
          const blocks = await page.$$eval('tbody[data-list="blocks:."] tr', (rows) => rows.length);
          const apiBlocks = await (await fetch(base + "/api/blocks?limit=10")).json();
          assert.ok(blocks >= 1, "the found block is listed");
          assert.equal(blocks, apiBlocks.length, "as many blocks as the API lists");
          const line = await page.getAttribute("svg[data-chart] path.line", "d");
          assert.match(line ?? "", /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/, "the chart has a line");
          const connect = await text("#connect");
          assert.match(connect ?? "", new RegExp(`stratum\\+tcp://127\\.0\\.0\\.1:${tp!.port}`));
          assert.deepEqual(errors, []);
        } finally {
          await close();
        }
      });

      await t.step(
        "the overview at desktop width: no clipped table, no blank retarget",
        async () => {
          const { page, errors, close } = await openPage(browser.browser, VIEWPORTS.desktop);
          try {
            await page.goto(base + "/");
            await refreshed(page);
            for (const card of ["#best-shares", "#blocks", "#workers"]) {
              const [scroll, client] = await page.$eval(
                `${card} .table-wrap`,
                (el) => [el.scrollWidth, el.clientWidth],
              );
              assert.ok(scroll <= client, `${card}: table ${scroll} px wide in ${client} px`);
            }
            const hashes = await page.$$eval(
              'tbody[data-list="overview:best_shares"] td[data-c="display_hash"]',
              (tds) => tds.map((td) => td.checkVisibility()),
            );
            assert.ok(hashes.length >= 1 && hashes.every(Boolean), "best-share hashes shown");
            // Regtest never retargets: the card says so instead of "– blocks / in ~ –".
            const retarget = (await page.textContent("#stat-retarget"))?.replace(/\s+/g, " ");
            assert.match(retarget ?? "", /none/);
            assert.match(retarget ?? "", /no retargets on regtest/);
            assert.doesNotMatch(retarget ?? "", /–/);
            // Block status in the API's terms: possible → confirming, winning → confirmed.
            const apiBlocks = await (await fetch(base + "/api/blocks?limit=10")).json();
            const statuses = await page.$$eval(
              'tbody[data-list="blocks:."] td[data-c="."]',
              (tds) => tds.map((td) => td.textContent?.trim()),
            );
            assert.deepEqual(statuses, apiBlocks.map(blockStatus));
            for (const [i, status] of statuses.entries()) {
              const word = { possible: "confirming", winning: "confirmed", stale: "orphaned" }[
                apiBlocks[i].result as string
              ];
              assert.ok(
                word && status?.startsWith(word),
                `${apiBlocks[i].result} shown as ${status}`,
              );
            }
            assert.deepEqual(errors, []);
          } finally {
            await close();
          }
        },
      );

      await t.step("pages render their data without JavaScript", async () => {
        const html = await (await fetch(base + "/node")).text();
        const nodeApi = await api(base, "/api/node");
        assert.match(
          html,
          new RegExp(`data-k="node:node_blocks" data-f="integer">${integer(nodeApi.node_blocks)}<`),
        );
      });

      await t.step("the worker lookup finds the test miner by the name typed in", async () => {
        const { page, errors, close } = await openPage(browser.browser, VIEWPORTS.phone);
        try {
          await page.goto(base + "/worker");
          await page.fill("#worker-name", MINER);
          await Promise.all([
            page.waitForURL(/\/worker\/sha256\?hash=[0-9a-f]{64}$/),
            page.click("button[type=submit]"),
          ]);
          assert.equal(await page.getAttribute("#lookup-result", "data-online"), "1");
          const rows = await page.$$eval(
            'tbody[data-list="lookup:connections"] td[data-c="display_name"]',
            (tds) => tds.map((td) => td.textContent),
          );
          assert.deepEqual(rows, [censorWorker(MINER)]);
          await refreshed(page);
          await screenshot(page, "worker-found-phone");
          // The URL carries the hash, never the name.
          assert.ok(!page.url().includes(MINER.split(".")[0]));
          // Just the address finds every rig mining to it.
          await page.goto(base + "/worker");
          await page.fill("#worker-name", MINER.split(".")[0]);
          await Promise.all([page.waitForURL(/sha256/), page.click("button[type=submit]")]);
          assert.equal(await page.getAttribute("#lookup-result", "data-online"), "1");
          // An unknown name is reported offline.
          await page.goto(base + "/worker");
          await page.fill("#worker-name", "nobody.here");
          await Promise.all([page.waitForURL(/sha256/), page.click("button[type=submit]")]);
          assert.equal(await page.getAttribute("#lookup-result", "data-online"), "0");
          assert.deepEqual(errors, []);
        } finally {
          await close();
        }
      });

      await t.step("the theme toggle switches and remembers dark mode", async () => {
        const { page, close } = await openPage(browser.browser, VIEWPORTS.desktop, "light");
        try {
          await page.goto(base + "/help");
          await page.click("#theme-toggle");
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          await page.reload();
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          const bg = await page.evaluate("getComputedStyle(document.body).backgroundColor");
          assert.equal(bg, "rgb(14, 17, 22)");
        } finally {
          await close();
        }
      });
    } finally {
      client?.close();
      await browser.close();
      await tp?.stop();
      await node.stop();
    }
  },
});
