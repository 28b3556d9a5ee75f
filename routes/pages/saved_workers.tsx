/**
 * `/saved-workers`: the page shell for signed-in users. Clerk's browser SDK loads from the pool's
 * own Clerk frontend API only when a publishable key is configured; `saved-workers.js` signs in,
 * keeps the session cookie fresh (`/api/auth/session-refresh` every 30 s), lists the saved
 * workers from `/api/saved-workers` with a 24 h chart each, and switches notifications and removes
 * workers. A valid session cookie is enough: the list works while Clerk's script is unreachable.
 * Saving is a plain form post (`/worker/save`), signing out a plain link (`/logout`).
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
