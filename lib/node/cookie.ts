/**
 * Bitcoin Core cookie authentication: the `.cookie` file the node writes at start-up
 * (`__cookie__:<random hex>`), found in the data dir and re-read whenever the node rewrites it.
 *
 * @module
 */

/** User name and password for HTTP Basic auth. */
export interface RpcCredentials {
  /** RPC user name. */
  readonly user: string;
  /** RPC password. */
  readonly password: string;
}

/** Thrown when a cookie file is missing, unreadable or malformed. */
export class CookieError extends Error {
  /** The cookie file in question. */
  readonly path: string;

  /** Creates the error for `path` with a human reason. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`cookie file ${path}: ${reason}`, options);
    this.name = "CookieError";
    this.path = path;
  }
}

/** Where to look for the Bitcoin Core data dir. */
export interface CookieLocation {
  /** Subdirectory of the data dir for the network ("" for mainnet, "regtest", "signet", …). */
  readonly cookieSubdir: string;
  /** Bitcoin Core data dir; default `$HOME/.bitcoin`. */
  readonly dataDir?: string;
  /** Home directory used for the default data dir; default `$HOME`. */
  readonly home?: string;
}

/** The cookie path Bitcoin Core uses by default: `<datadir>/<cookieSubdir>/.cookie`. */
export function defaultCookiePath(location: CookieLocation): string {
  let dataDir = location.dataDir;
  if (dataDir === undefined) {
    const home = location.home ?? Deno.env.get("HOME");
    if (!home) throw new CookieError("~/.bitcoin/.cookie", "no HOME to find the data dir in");
    dataDir = `${home.replace(/\/+$/, "")}/.bitcoin`;
  }
  const parts = [dataDir.replace(/\/+$/, "")];
  if (location.cookieSubdir !== "") parts.push(location.cookieSubdir);
  parts.push(".cookie");
  return parts.join("/");
}

/** Parses cookie file text (`user:password`, split at the first colon; a trailing newline is ok). */
export function parseCookie(text: string, path = "<cookie>"): RpcCredentials {
  const line = text.replace(/\r?\n$/, "");
  const colon = line.indexOf(":");
  if (colon <= 0) throw new CookieError(path, "expected `user:password`");
  const password = line.slice(colon + 1);
  if (password === "" || /[\r\n]/.test(password)) {
    throw new CookieError(path, "empty or multi-line password");
  }
  return { user: line.slice(0, colon), password };
}

/**
 * Credentials from a cookie file, cached and re-read when the file's mtime or size changes (the
 * node writes a new cookie on every start) or when {@linkcode CookieFile.invalidate} is called
 * (after an HTTP 401).
 */
export class CookieFile {
  /** Path of the cookie file. */
  readonly path: string;
  #cached: RpcCredentials | undefined;
  #mtime = -1;
  #size = -1;

  /** Watches the cookie at `path`; nothing is read until the first {@linkcode read}. */
  constructor(path: string) {
    this.path = path;
  }

  /** The current credentials; stats the file and re-reads it only when it changed. */
  async read(): Promise<RpcCredentials> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.path);
    } catch (cause) {
      this.#cached = undefined;
      throw new CookieError(this.path, describe(cause), { cause });
    }
    const mtime = info.mtime?.getTime() ?? 0;
    if (this.#cached && mtime === this.#mtime && info.size === this.#size) return this.#cached;
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (cause) {
      this.#cached = undefined;
      throw new CookieError(this.path, describe(cause), { cause });
    }
    this.#cached = parseCookie(text, this.path);
    this.#mtime = mtime;
    this.#size = info.size;
    return this.#cached;
  }

  /** Forgets the cached credentials so the next {@linkcode read} reads the file again. */
  invalidate(): void {
    this.#cached = undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "not found (is the node running?)";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  return err instanceof Error ? err.message : String(err);
}
