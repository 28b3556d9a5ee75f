/**
 * `deno run -A tools/healthcheck.ts [main.ts flags]`: is the pool on this machine answering?
 * The container image's `HEALTHCHECK`. Exit code 0 = healthy, 1 = not, 2 = bad configuration;
 * one line on stdout or stderr says why.
 *
 * It reads the configuration exactly as `main.ts` does (the same flags, files and `DENOPOOL_*`
 * variables) and asks the status server `server.status_listen` for `/api/overview` (`/` with
 * `no_json`): healthy when it answers 200, or 307 when plain HTTP redirects to
 * `status_tls_listen`. Without a status listener it checks that the Stratum port accepts a
 * connection. A wildcard listen address (`0.0.0.0`, `::`) is asked on loopback.
 *
 * ```sh
 * deno run -A tools/healthcheck.ts --config /etc/denopool/config.toml
 * ```
 *
 * @module
 */

import { runCli } from "../lib/config/cli.ts";
import { type HostPort, parseHostPort } from "../lib/config/mod.ts";

/** How long the pool may take to answer, in ms. */
const TIMEOUT_MS = 5_000;

/** The outcome of one check: healthy or not, and a line saying what was seen. */
export interface HealthResult {
  /** True when the pool answered as it should. */
  readonly healthy: boolean;
  /** One line: what was asked and what came back. */
  readonly detail: string;
}

/** The address to dial for a listen address: a wildcard host becomes loopback. */
function dialable(listen: HostPort): HostPort {
  if (listen.hostname === "0.0.0.0") return { ...listen, hostname: "127.0.0.1" };
  if (listen.hostname === "::") return { ...listen, hostname: "::1" };
  return listen;
}

function hostForUrl(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** Checks the pool that `args` (main.ts's flags) and `env` configure. */
export async function checkHealth(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  stderr: (line: string) => void,
): Promise<HealthResult | { readonly exitCode: number }> {
  const outcome = await runCli(args, { stdout: () => {}, stderr }, env);
  if (outcome.kind === "exit") return { exitCode: outcome.code === 0 ? 0 : outcome.code };
  const { server, stratum } = outcome.config;
  const status = parseHostPort(server.statusListen);
  if (status !== undefined) {
    const { hostname, port } = dialable(status);
    const url = `http://${hostForUrl(hostname)}:${port}${server.noJson ? "/" : "/api/overview"}`;
    try {
      const response = await fetch(url, {
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await response.body?.cancel();
      const healthy = response.status === 200 ||
        (response.status === 307 && server.statusTlsListen !== "");
      return { healthy, detail: `GET ${url}: ${response.status}` };
    } catch (error) {
      return { healthy: false, detail: `GET ${url}: ${describe(error)}` };
    }
  }
  const { hostname, port } = dialable(parseHostPort(stratum.listen)!);
  const where = `${hostForUrl(hostname)}:${port}`;
  try {
    const connection = await Promise.race([
      Deno.connect({ hostname, port }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("timed out")), TIMEOUT_MS)
      ),
    ]);
    connection.close();
    return { healthy: true, detail: `Stratum ${where}: accepts connections` };
  } catch (error) {
    return { healthy: false, detail: `Stratum ${where}: ${describe(error)}` };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}

if (import.meta.main) {
  const result = await checkHealth(
    Deno.args,
    Deno.env.toObject(),
    (line) => console.error(line),
  );
  if ("exitCode" in result) Deno.exit(result.exitCode);
  if (result.healthy) console.log(`healthy: ${result.detail}`);
  else console.error(`unhealthy: ${result.detail}`);
  Deno.exit(result.healthy ? 0 : 1);
}
