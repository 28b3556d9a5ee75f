/**
 * Discord's rendering of the notices: mentions (`<@id>`), Discord timestamps (`<t:…:R>`, shown in
 * each reader's time zone) and a masked link to the status page. The one place the Discord text
 * is made, for the channel (`channel.ts`) and the Discord-only notifier (`notifier.ts`).
 *
 * @module
 */

import { censorHash } from "../status/censor.ts";
import { type BestShareChange, shortDifficulty, type WorkerChange } from "../notify/mod.ts";

/** Lines of one grouped message before the rest is summed up. */
const MAX_LINES = 20;

/** The masked status link appended to messages ("" without a URL). */
export function discordFooter(statusUrl: string | undefined): string {
  return statusUrl ? `\n[check status](<${statusUrl}>)` : "";
}

function capped(lines: string[]): string {
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`…and ${lines.length - MAX_LINES} more`);
  return shown.join("\n");
}

/** One user's saved-worker changes as one message pinging that user. */
export function discordWorkerMessage(
  discordUserId: string,
  changes: readonly WorkerChange[],
  statusUrl?: string,
): string {
  const lines = changes.map((e) => {
    const t = `<t:${Math.floor(e.since / 1000)}:R>`;
    return e.state === "offline"
      ? `🔴 ${e.name} went offline ${t}`
      : `🟢 ${e.name} is back online (since ${t})`;
  });
  return `<@${discordUserId}>\n${capped(lines)}${discordFooter(statusUrl)}`;
}

/** One user's new best shares as one message pinging that user. */
export function discordBestShareMessage(
  discordUserId: string,
  shares: readonly BestShareChange[],
  statusUrl?: string,
): string {
  const lines = shares.map((s) =>
    `🏆 ${s.name}: new best share ${shortDifficulty(s.difficulty)}` +
    (s.previous > 0 ? ` (was ${shortDifficulty(s.previous)})` : "")
  );
  return `<@${discordUserId}>\n${capped(lines)}${discordFooter(statusUrl)}`;
}

/** What a block message shows. */
export interface DiscordBlock {
  /** Height. */
  readonly height: number;
  /** Block hash, RPC hex (censored here). */
  readonly hash: string;
  /** Censored worker name. */
  readonly worker: string;
  /** When it was found (ms since the epoch). */
  readonly foundAt: number;
}

/** The block message everyone reads, pinging `pings` (Discord user ids). */
export function discordBlockMessage(
  block: DiscordBlock,
  pings: readonly string[],
  statusUrl?: string,
): string {
  const when = `<t:${Math.floor(block.foundAt / 1000)}:F>`;
  return `⛏️ Block found: height ${block.height} by ${block.worker} ` +
    `(hash ${censorHash(block.hash)}) at ${when}` +
    (pings.length > 0 ? `\n${pings.map((id) => `<@${id}>`).join(" ")}` : "") +
    discordFooter(statusUrl);
}
