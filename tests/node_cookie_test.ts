/** Cookie auth: default paths per network, parsing, and re-reading when the node rewrites it. */

import assert from "node:assert/strict";
import { CookieError, CookieFile, defaultCookiePath, parseCookie } from "../lib/node/cookie.ts";

Deno.test("cookie: default path is <home>/.bitcoin/<subdir>/.cookie, mainnet has no subdir", () => {
  assert.equal(
    defaultCookiePath({ cookieSubdir: "", home: "/home/op" }),
    "/home/op/.bitcoin/.cookie",
  );
  assert.equal(
    defaultCookiePath({ cookieSubdir: "regtest", home: "/home/op/" }),
    "/home/op/.bitcoin/regtest/.cookie",
  );
  assert.equal(
    defaultCookiePath({ cookieSubdir: "testnet3", dataDir: "/srv/btc/" }),
    "/srv/btc/testnet3/.cookie",
  );
});

Deno.test("cookie: parse splits at the first colon and drops one trailing newline", () => {
  assert.deepEqual(parseCookie("__cookie__:abc123"), { user: "__cookie__", password: "abc123" });
  assert.deepEqual(parseCookie("__cookie__:a:b\n"), { user: "__cookie__", password: "a:b" });
  assert.throws(() => parseCookie("nocolon"), CookieError);
  assert.throws(() => parseCookie(":pw"), CookieError);
  assert.throws(() => parseCookie("user:"), CookieError);
  assert.throws(() => parseCookie("user:a\nb"), CookieError);
});

Deno.test("cookie: CookieFile re-reads a rewritten cookie and reports a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/.cookie`;
    const cookie = new CookieFile(path);
    await assert.rejects(cookie.read(), (err: unknown) => {
      assert.ok(err instanceof CookieError);
      assert.match(err.message, /not found/);
      return true;
    });

    await Deno.writeTextFile(path, "__cookie__:first");
    assert.equal((await cookie.read()).password, "first");

    await Deno.writeTextFile(path, "__cookie__:second-longer");
    assert.equal((await cookie.read()).password, "second-longer");

    // Same size and same mtime: the cache holds until invalidated (the client does so on 401).
    await Deno.writeTextFile(path, "__cookie__:aaaa");
    assert.equal((await cookie.read()).password, "aaaa");
    const { mtime } = await Deno.stat(path);
    await Deno.writeTextFile(path, "__cookie__:bbbb");
    await Deno.utime(path, mtime!, mtime!);
    assert.equal((await cookie.read()).password, "aaaa");
    cookie.invalidate();
    assert.equal((await cookie.read()).password, "bbbb");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
