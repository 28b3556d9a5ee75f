/**
 * `/saved-workers`: the page shell for signed-in users. Clerk's browser SDK loads from the pool's
 * own Clerk frontend API only when a publishable key is configured; `saved-workers.js` signs in,
 * keeps the session cookie fresh (`/api/auth/session-refresh` every 30 s), lists the saved
 * workers from `/api/saved-workers` with a 24 h chart each, and switches notifications and removes
 * workers. A valid session cookie is enough: the list works while Clerk's script is unreachable.
 * Saving is a plain form post (`/worker/save`), signing out a plain link (`/logout`). When the
 * pool offers notification channels, a card lets the user set their own ntfy topic and webhook
 * URL (a plain form post to `/notify/targets`) and get a one-time code to link Telegram
 * (`/link CODE`) or Discord (`!link CODE`).
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { Card, Layout } from "./components.tsx";
import type { PageContext } from "./types.ts";

/**
 * The Clerk frontend API origin encoded in a publishable key (`pk_test_<base64("host$")>`), or
 * undefined when the key is malformed.
 */
export function clerkFrontendApi(publishableKey: string): string | undefined {
  const m = /^pk_(?:test|live)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey.trim());
  if (!m) return undefined;
  let decoded: string;
  try {
    decoded = atob(m[1].replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return undefined;
  }
  const host = decoded.endsWith("$") ? decoded.slice(0, -1) : decoded;
  return /^[a-z0-9.-]+(?::\d+)?$/i.test(host) ? `https://${host}` : undefined;
}

/** The Clerk browser SDK URL on a frontend API origin. */
export function clerkScriptUrl(frontendApi: string): string {
  return `${frontendApi}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
}

/**
 * The saved-workers page.
 *
 * @internal
 */
export function SavedWorkersPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  const key = ctx.site.clerkPublishableKey;
  const frontendApi = key ? clerkFrontendApi(key) : undefined;
  const external = key && frontendApi
    ? [{ src: clerkScriptUrl(frontendApi), attrs: { "data-clerk-publishable-key": key } }]
    : [];
  return (
    <Layout
      ctx={ctx}
      title="Saved workers"
      poll={[]}
      scripts={frontendApi ? ["saved-workers.js"] : []}
      externalScripts={external}
    >
      {frontendApi
        ? (
          <>
            <Card
              title="Account"
              id="sign-in-card"
              aside={<a href="/logout" id="sign-out" class="hidden">Sign out</a>}
            >
              <p class="muted" id="sign-in-note">
                Sign in to keep a list of your workers and see them online or offline at a glance.
                Only a hash of each name is stored.
              </p>
              <p class="warn hidden" id="clerk-unavailable">
                The sign-in service could not be reached. Reload the page to try again.
              </p>
              <div id="clerk-sign-in"></div>
            </Card>
            <Card title="Save a worker" id="save-card">
              <form id="save-worker" class="lookup" action="/worker/save" method="post">
                <label for="save-worker-name">Worker name (payout address, optionally .rig)</label>
                <div class="row">
                  <input
                    id="save-worker-name"
                    name="worker"
                    type="text"
                    autocomplete="off"
                    spellcheck={false}
                    maxlength={256}
                    placeholder="bc1q….rig1"
                    required
                  />
                  <button type="submit">Save</button>
                </div>
                <p class="muted">
                  The pool stores the SHA-256 of the name and a shortened display name, never the
                  name itself. At most 64 workers.
                </p>
              </form>
            </Card>
            <NotifyCard channels={ctx.site.notifyChannels ?? []} />
            <Card title="Your workers" id="saved-list-card">
              <div id="saved-workers" data-state="loading">
                <p class="muted">Signed-in users see their saved workers here.</p>
              </div>
            </Card>
          </>
        )
        : (
          <Card title="Not available here" id="saved-off">
            <p>
              This pool has no sign-in configured, so workers cannot be saved. You can still look up
              any miner by name on <a href="/worker">My worker</a>.
            </p>
          </Card>
        )}
    </Layout>
  );
}

/** The notification card: the user's own targets and the link code (hidden until signed in). */
function NotifyCard(props: { channels: readonly string[] }): JSX.Element | null {
  const has = (name: string) => props.channels.includes(name);
  if (props.channels.length === 0) return null;
  const linkable = [
    has("telegram") ? "the Telegram bot: /link CODE" : "",
    has("discord") ? "the Discord channel: !link CODE" : "",
  ]
    .filter((s) => s !== "");
  return (
    <Card title="Notifications" id="notify-card">
      <p class="muted">
        You hear about blocks your saved workers find, workers going offline and coming back, and
        new best shares. Switch single workers off in the list below.
      </p>
      {has("ntfy") || has("webhook")
        ? (
          <form id="notify-targets" class="lookup" action="/notify/targets" method="post">
            {has("ntfy")
              ? (
                <>
                  <label for="notify-ntfy">Your ntfy topic URL (empty = none)</label>
                  <input
                    id="notify-ntfy"
                    name="ntfy_url"
                    type="url"
                    autocomplete="off"
                    maxlength={512}
                    placeholder="https://ntfy.sh/your-secret-topic"
                  />
                </>
              )
              : null}
            {has("webhook")
              ? (
                <>
                  <label for="notify-webhook">Your webhook URL (empty = none)</label>
                  <input
                    id="notify-webhook"
                    name="webhook_url"
                    type="url"
                    autocomplete="off"
                    maxlength={512}
                    placeholder="https://example.com/hooks/pool"
                  />
                  <p class="muted">
                    Each call is a JSON POST signed in <code>X-Denopool-Signature</code>{" "}
                    (sha256=HMAC-SHA256 of the body) with your secret:{" "}
                    <code id="notify-webhook-secret">shown once a URL is saved</code>
                  </p>
                </>
              )
              : null}
            <div class="row">
              <button type="submit">Save notification targets</button>
            </div>
          </form>
        )
        : null}
      {linkable.length > 0
        ? (
          <div id="notify-link">
            <p>
              To link a chat, get a code (it works once, for 5 minutes) and send it to{" "}
              {linkable.join(", or ")}.
            </p>
            <div class="row">
              <button type="button" id="notify-code">Get a link code</button>
              <code id="notify-code-value"></code>
            </div>
            <p class="muted" id="notify-linked"></p>
          </div>
        )
        : null}
    </Card>
  );
}
