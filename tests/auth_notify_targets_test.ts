/**
 * Users' own notification targets on the saved-workers routes: the page's form post sets an ntfy
 * topic and a webhook URL (303 back to the page), `GET /api/saved-workers` shows them with the
 * webhook secret, bad and internal URLs are refused with a reason, another site's post is refused
 * by the same-origin guard, and the link code is handed out for Telegram.
 */

import assert from "node:assert/strict";
import { TEST_SITE, withAuthRoutes } from "./auth_fixture.ts";
import { checkTargetUrl } from "../lib/notify/targets.ts";

const NOTIFY = {
  ntfy: true,
  webhook: true,
  telegram: true,
  checkUrl: (u: string) => checkTargetUrl(u),
};

Deno.test("notify targets: set by form, shown in the list, checked, same-origin only", async () => {
  await withAuthRoutes(async (f) => {
    const cookie = `__session=${await f.clerk.sign("user_1")}`;
    const form = (body: Record<string, string>, origin = TEST_SITE) =>
      f.request("/notify/targets", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin, cookie },
        body: new URLSearchParams(body).toString(),
        redirect: "manual",
      });
    const saved = await form({
      ntfy_url: "https://ntfy.sh/rigs-8f2a",
      webhook_url: "https://hooks.example/pool",
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), "/saved-workers");
    const view = await (await f.request("/api/saved-workers", { headers: { cookie } })).json();
    assert.deepEqual(view.notify.channels, ["ntfy", "webhook", "telegram"]);
    assert.equal(view.notify.ntfy_url, "https://ntfy.sh/rigs-8f2a");
    assert.equal(view.notify.webhook_url, "https://hooks.example/pool");
    assert.match(view.notify.webhook_secret, /^[0-9a-f]{64}$/);
    assert.equal(view.notify.telegram_linked, false);

    const internal = await form({ ntfy_url: "http://127.0.0.1:2586/topic" });
    assert.equal(internal.status, 400);
    assert.match(await internal.text(), /ntfy_url: expected an address on the internet/);
    assert.equal((await form({ webhook_url: "not a url" })).status, 400);
    assert.equal(
      (await form({ ntfy_url: "https://ntfy.sh/x" }, "https://evil.example")).status,
      403,
    );
    assert.equal((await f.store.notifyPrefs.get("user_1")).ntfyUrl, "https://ntfy.sh/rigs-8f2a");

    // Emptying a field removes that target; the secret stays with the webhook.
    const secret = view.notify.webhook_secret;
    assert.equal(
      (await form({ ntfy_url: "", webhook_url: "https://hooks.example/pool" })).status,
      303,
    );
    assert.deepEqual(await f.store.notifyPrefs.get("user_1"), {
      webhookUrl: "https://hooks.example/pool",
      webhookSecret: secret,
    });

    // A link code for Telegram's /link, though Discord is off.
    const code = await f.request("/api/saved-workers/one-time-code", {
      method: "POST",
      headers: { "content-type": "application/json", origin: TEST_SITE, cookie },
      body: "{}",
    });
    assert.equal(code.status, 200);
    assert.match((await code.json()).code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);

    const anonymous = await f.request("/notify/targets", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: TEST_SITE },
      body: "ntfy_url=https%3A%2F%2Fntfy.sh%2Fx",
    });
    assert.equal(anonymous.status, 401);
  }, { notify: NOTIFY });
});

Deno.test("notify targets: 404 when the pool offers no channel of one's own", async () => {
  await withAuthRoutes(async (f) => {
    const cookie = `__session=${await f.clerk.sign("user_1")}`;
    const res = await f.request("/notify/targets", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: TEST_SITE, cookie },
      body: "ntfy_url=https%3A%2F%2Fntfy.sh%2Fx",
    });
    assert.equal(res.status, 404);
    const view = await (await f.request("/api/saved-workers", { headers: { cookie } })).json();
    assert.equal(view.notify, undefined);
  });
});
