/**
 * Podman for the container tests: a `containers.conf` that works on the CI machine, a Debian base
 * image made without any registry (debootstrap, cached per day) with this process's deno in it,
 * and the project's image built from `Containerfile` on top of it.
 *
 * What the machine needs: root, `podman`, `runc` and `debootstrap` (`.ci/run` installs them),
 * `deb.debian.org` and the npm registry. Anything missing is an error saying what, never a skip.
 *
 * Facts this relies on (checked on the CI machine): crun fails on its cgroups (v1), runc works
 * with `cgroupfs`; runc refuses to start a container whose rlimits exceed the caller's, so the
 * default ulimits are set to what the machine allows; the host network (`--network=host`) needs
 * no CNI or netavark setup, and the tests' regtest node listens on 127.0.0.1 anyway.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository's root (the build context). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Where the debootstrap root file systems are kept between runs, one tarball per day. */
export const BASE_CACHE_DIR = "/var/cache/denopool-ci";

/** The Debian release the base image is made from. */
const SUITE = "bookworm";

/** The base image's name; its tag is the deno version and the day of its root file system. */
export const BASE_IMAGE_NAME = "localhost/denopool-base";

/** Where the host keeps its CA bundle; handed to the build for a TLS-intercepting proxy. */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** The output of one command. */
export interface CommandResult {
  /** Exit code. */
  readonly code: number;
  /** Standard output, decoded. */
  readonly stdout: string;
  /** Standard error, decoded. */
  readonly stderr: string;
}

/** A podman that works here: every call gets the `containers.conf` written by `setupPodman`. */
export interface Podman {
  /** The environment every podman call runs with (`CONTAINERS_CONF`). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `podman ARGS`; never throws for a non-zero exit. */
  run(args: readonly string[]): Promise<CommandResult>;
  /** Runs `podman ARGS`; throws with its stderr unless it exits 0; returns stdout. */
  ok(args: readonly string[]): Promise<string>;
}

/** Runs a command, collecting its output. A missing program is an Error naming it. */
export async function runCommand(
  program: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: Uint8Array } = {},
): Promise<CommandResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: [...args],
      env: options.env,
      cwd: options.cwd,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${program} is not installed (apt-get install -y podman runc debootstrap; .ci/run does)`,
      );
    }
    throw error;
  }
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const output = await child.output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/**
 * Writes `containers.conf` into `dir` (runc, cgroupfs, ulimits nofile=20000 and nproc=32768, or
 * the machine's hard limits when lower) and checks that podman runs with it. Throws, saying why, when podman cannot run here.
 */
export async function setupPodman(dir: string): Promise<Podman> {
  if (Deno.uid() !== 0) {
    throw new Error(`podman tests run as root (the CI machine's user); this is uid ${Deno.uid()}`);
  }
  const conf = `${dir}/containers.conf`;
  const nofile = Math.min(20_000, await hardLimit("Max open files"));
  const nproc = Math.min(32_768, await hardLimit("Max processes"));
  await Deno.writeTextFile(
    conf,
    [
      "[containers]",
      // runc will not raise limits above the caller's: keep to what the machine gives.
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      "[engine]",
      // crun fails on these cgroups (v1); runc with cgroupfs works without systemd.
      `runtime = "runc"`,
      `cgroup_manager = "cgroupfs"`,
      `events_logger = "file"`,
      "",
    ].join("\n"),
  );
  const env = { CONTAINERS_CONF: conf };
  const podman: Podman = {
    env,
    run: (args) => runCommand("podman", args, { env }),
    async ok(args) {
      const result = await runCommand("podman", args, { env });
      if (result.code !== 0) {
        throw new Error(
          `podman ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`,
        );
      }
      return result.stdout;
    },
  };
  const info = await podman.run(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
  if (info.code !== 0) throw new Error(`podman cannot run here: ${info.stderr.trim()}`);
  if (info.stdout.trim() !== "runc") {
    throw new Error(`podman uses ${info.stdout.trim()}, not runc: ${conf} was not read`);
  }
  return podman;
}

/** This process's hard limit named `name` in /proc/self/limits ("unlimited" = no bound). */
async function hardLimit(name: string): Promise<number> {
  const limits = await Deno.readTextFile("/proc/self/limits");
  const line = limits.split("\n").find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  if (hard === undefined) throw new Error(`no "${name}" in /proc/self/limits`);
  return hard === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(hard);
}

/** Today in UTC, `YYYYMMDD`: the key of the cached root file system. */
function today(): string {
  return new Date().toISOString().slice(0, 10).replaceAll("-", "");
}

/** The ELF binary of the running deno (npm's `deno` is a symlink to it). */
async function denoBinary(): Promise<string> {
  const path = await Deno.realPath(Deno.execPath());
  const file = await Deno.open(path);
  try {
    const magic = new Uint8Array(4);
    await file.read(magic);
    if (magic[0] !== 0x7f || String.fromCharCode(...magic.slice(1)) !== "ELF") {
      throw new Error(`${path} (the running deno) is not an ELF binary`);
    }
  } finally {
    file.close();
  }
  return path;
}

/** How the base image was come by, for the test's timing report. */
export interface BaseImage {
  /** `localhost/denopool-base:<deno version>-<YYYYMMDD>`. */
  readonly image: string;
  /** What had to be done: nothing (image there), an import of the cached tarball, or debootstrap. */
  readonly made: "cached image" | "cached rootfs" | "debootstrap";
}

/**
 * The base image: Debian `bookworm` (`debootstrap --variant=minbase`, kept as a tarball under
 * {@linkcode BASE_CACHE_DIR} for the day) with this process's deno at `/usr/local/bin/deno`. Made
 * once per day and deno version; an image already in podman's store is used as is.
 */
export async function ensureBaseImage(podman: Podman, workDir: string): Promise<BaseImage> {
  const day = today();
  const image = `${BASE_IMAGE_NAME}:${Deno.version.deno}-${day}`;
  if ((await podman.run(["image", "exists", image])).code === 0) {
    return { image, made: "cached image" };
  }
  await Deno.mkdir(BASE_CACHE_DIR, { recursive: true });
  const tarball = `${BASE_CACHE_DIR}/${SUITE}-minbase-${day}.tar`;
  let made: BaseImage["made"] = "cached rootfs";
  if (!await exists(tarball)) {
    made = "debootstrap";
    const rootfs = await Deno.makeTempDir({ dir: BASE_CACHE_DIR, prefix: `${SUITE}-` });
    try {
      const boot = await runCommand("debootstrap", [
        "--variant=minbase",
        SUITE,
        rootfs,
        "http://deb.debian.org/debian",
      ]);
      if (boot.code !== 0) {
        throw new Error(`debootstrap exited ${boot.code}:\n${boot.stderr}${boot.stdout}`);
      }
      const partial = `${tarball}.partial`;
      const tar = await runCommand("tar", ["-C", rootfs, "-cf", partial, "."]);
      if (tar.code !== 0) throw new Error(`tar exited ${tar.code}: ${tar.stderr}`);
      await Deno.rename(partial, tarball);
    } finally {
      await Deno.remove(rootfs, { recursive: true });
    }
    // Yesterday's tarballs are not needed any more.
    for await (const entry of Deno.readDir(BASE_CACHE_DIR)) {
      const name = entry.name;
      if (name.startsWith(`${SUITE}-minbase-`) && `${BASE_CACHE_DIR}/${name}` !== tarball) {
        await Deno.remove(`${BASE_CACHE_DIR}/${name}`, { recursive: true });
      }
    }
  }
  const rootfsImage = `localhost/denopool-rootfs:${day}`;
  await podman.ok(["import", tarball, rootfsImage]);
  const context = `${workDir}/base-context`;
  await Deno.mkdir(context, { recursive: true });
  await Deno.copyFile(await denoBinary(), `${context}/deno`);
  await Deno.chmod(`${context}/deno`, 0o755);
  await Deno.writeTextFile(
    `${context}/Containerfile`,
    `FROM ${rootfsImage}\nCOPY deno /usr/local/bin/deno\nRUN deno --version\n`,
  );
  await podman.ok(["build", "--network=host", "-t", image, context]);
  await podman.run(["rmi", rootfsImage]);
  // Older days' and deno versions' base images are not needed any more.
  const listed = await podman.ok([
    "images",
    "--format",
    "{{.Repository}}:{{.Tag}}",
    BASE_IMAGE_NAME,
  ]);
  for (const old of listed.split("\n").filter((line) => line !== "" && line !== image)) {
    await podman.run(["rmi", old]);
  }
  return { image, made };
}

/**
 * Builds the project's `Containerfile` on `base` as `tag` (`--format docker`, so `HEALTHCHECK`
 * is kept). The host's CA bundle goes in as the `ca_certs` build secret, for npm behind a
 * TLS-intercepting proxy.
 */
export async function buildProjectImage(
  podman: Podman,
  base: string,
  tag: string,
): Promise<void> {
  const args = [
    "build",
    "--format",
    "docker",
    "--network=host",
    "--build-arg",
    `BASE=${base}`,
    "-t",
    tag,
    "-f",
    `${REPO_ROOT}Containerfile`,
  ];
  if (await exists(HOST_CA_BUNDLE)) args.push("--secret", `id=ca_certs,src=${HOST_CA_BUNDLE}`);
  const before = await imageId(podman, tag);
  await podman.ok([...args, REPO_ROOT]);
  // The image this build replaced (the last run's) would only pile up, untagged.
  const after = await imageId(podman, tag);
  if (before !== undefined && before !== after) await podman.run(["rmi", before]);
}

async function imageId(podman: Podman, tag: string): Promise<string | undefined> {
  const result = await podman.run(["image", "inspect", "--format", "{{.Id}}", tag]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
