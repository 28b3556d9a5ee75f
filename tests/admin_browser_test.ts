/**
 * The admin panel in headless Chromium, on a real pool with a real miner: sign in through the
 * form, walk every page on a desktop and a phone viewport (screenshots in
 * `artifacts/screenshots/admin-*.png`), and act through the forms: send a message, set a
 * difficulty floor, ban and unban a worker, apply an override, sign out. The pages load nothing
 * from elsewhere, run no script, and no page errors.
 */

import assert from "node:assert/strict";
import { launchBrowser, openPage, screenshot, VIEWPORTS } from "./helpers/browser.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";
import { connectMiner, regtestP2wpkh } from "./helpers/miners.ts";
import { hashPassword, MIN_ITERATIONS } from "../lib/admin/password.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;
const PASSWORD = "browser admin password";
const ADDRESS = regtestP2wpkh(0x4d);

Deno.test({
  name: "admin panel in Chromium: sign in, every page on desktop and phone, actions via forms",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    let tp: TestPool | undefined;
    const b = await launchBrowser();
    try {
      await node.mine(1);
      tp = await startTestPool(
        node,
        {
          admin: { enabled: true, listen: "127.0.0.1:0" },
          difficulty: { start: 1e-10, min: 1e-10 },
        },
        undefined,
        { admin_password_hash: await hashPassword(PASSWORD, MIN_ITERATIONS) },
      );
      const base = `http://127.0.0.1:${tp.pool.admin!.address!.port}/admin`;
      const miner = await connectMiner(tp.port, `${ADDRESS}.rig`);

      for (const [name, viewport] of Object.entries(VIEWPORTS)) {
        const { page, errors, close } = await openPage(b.browser, viewport);
        const requests: string[] = [];
        page.on("request", (r) => requests.push(r.url()));
        // Not signed in: the panel sends us to the sign-in form.
        await page.goto(base);
        assert.equal(new URL(page.url()).pathname, "/admin/login");
        await screenshot(page, `admin-login-${name}`);
        await page.fill('input[name="password"]', "wrong password");
        await page.click('button[type="submit"]');
        assert.match(await page.content(), /wrong password/);
        await page.goto(`${base}/login`);
        await page.fill('input[name="password"]', PASSWORD);
        await page.click('button[type="submit"]');
        await page.waitForURL(base);
        assert.ok(
          (await page.textContent("main"))!.includes(`${ADDRESS}.rig`),
          "the miner is listed",
        );
        await screenshot(page, `admin-connections-${name}`);
        for (const path of ["", "/bans", "/blocks", "/health", "/settings", "/audit"]) {
          await page.goto(`${base}${path}`);
          assert.notEqual(await page.title(), "");
          if (path !== "") await screenshot(page, `admin${path.replace("/", "-")}-${name}`);
          // No page scrolls sideways as a whole (wide tables scroll inside their box).
          const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
          assert.ok(
            width <= viewport.width + 1,
            `${path || "/"}: ${width} px on ${viewport.width}`,
          );
        }
        // The wrong password above is answered 401 on purpose; nothing else may fail.
        const unexpected = errors.filter((e) => !e.includes("/admin/login") && !e.includes("401"));
        assert.deepEqual(unexpected, [], errors.join("\n"));
        assert.ok(
          requests.every((u) => u.startsWith("http://127.0.0.1:")),
          "nothing from elsewhere",
        );
        await close();
      }

      // Actions through the forms, as an operator on a desktop would.
      const { page, close } = await openPage(b.browser, VIEWPORTS.desktop);
      await page.goto(`${base}/login`);
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL(base);

      await page.fill(
        'fieldset:has(legend:text("Message")) input[name="text"]',
        "hello from the panel",
      );
      await page.click('fieldset:has(legend:text("Message")) button');
      await page.waitForURL(/done=/);
      assert.match((await page.textContent(".flash"))!, /message sent to 1 connection/);
      await miner.waitFor("client.show_message", (n) => n.params?.[0] === "hello from the panel");

      await page.fill(
        'fieldset:has(legend:text("Difficulty floor")) input[name="worker"]',
        `${ADDRESS}.rig`,
      );
      await page.fill(
        'fieldset:has(legend:text("Difficulty floor")) input[name="difficulty"]',
        "0.125",
      );
      await page.click('fieldset:has(legend:text("Difficulty floor")) button');
      await page.waitForURL(/done=/);
      await miner.waitFor("mining.set_difficulty", (n) => n.params?.[0] === 0.125);

      await page.goto(`${base}/settings`);
      await page.fill('input[name="targetSharesPerMinute"]', "30");
      await page.click('form[action$="/actions/overrides"] button');
      await page.waitForURL(/done=/);
      assert.equal(
        await page.textContent(
          'tr[data-key="difficulty.target_shares_per_minute"] td:nth-child(3)',
        ),
        "yes",
      );
      await screenshot(page, "admin-settings-overridden");

      await page.goto(`${base}/bans`);
      await page.selectOption('select[name="kind"]', "worker");
      await page.fill('input[name="value"]', `${ADDRESS}.rig`);
      await page.fill('input[name="minutes"]', "5");
      await page.click('form[action$="/actions/ban"] button');
      await page.waitForURL(/done=/);
      await miner.closed;
      assert.equal(await page.locator(`tr[data-ban="${ADDRESS}.rig"]`).count(), 1);
      await screenshot(page, "admin-bans-one");
      await page.click(`tr[data-ban="${ADDRESS}.rig"] button`);
      await page.waitForURL(/done=/);
      assert.equal(await page.locator(`tr[data-ban="${ADDRESS}.rig"]`).count(), 0);

      await page.click('header button[type="submit"]');
      await page.waitForURL(/\/admin\/login$/);
      await page.goto(base);
      assert.equal(new URL(page.url()).pathname, "/admin/login", "signed out");
      await close();
    } finally {
      await b.close();
      await tp?.stop();
      await node.stop();
    }
  },
});
