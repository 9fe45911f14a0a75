// The package as a user gets it: `npm pack` of this checkout (which runs `prepack`: a clean build), and the
// tarball installed with `npm i -g --prefix` into a folder outside the checkout. Used by the package and
// Claude Code tests, so each test file pays for one pack and one install (better-sqlite3 compiles on
// install where no prebuilt binary can be downloaded, which takes minutes on a busy machine).
import { execFile } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { processIsAlive } from "../../src/util/secure-file.js";

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/**
 * npm as the user runs it: their own npm configuration (~/.npmrc, e.g. where node-gyp finds Node's headers)
 * and cache, but none of the npm_* variables `npm test` exports about this checkout.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: "false" };
  for (const key of Object.keys(env)) {
    if (/^npm_(package|lifecycle|config_(prefix|global|local_prefix))/i.test(key)) delete env[key];
  }
  return env;
}

export interface PackedInstall {
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** Files in the tarball, relative to the package root (from `npm pack --json`). */
  files: string[];
  /** The install prefix; the command is `${prefix}/bin/mac-messages-mcp`. */
  prefix: string;
  bin: string;
  /** Where the package itself was installed. */
  packageDir: string;
  /** An empty home folder for the child processes. */
  home: string;
  /** A folder outside the checkout to run commands in. */
  workDir: string;
  cleanup(): void;
}

const PACK_LOCK = join(REPO_ROOT, "build", ".pack-lock");

/**
 * `npm pack` cleans and rebuilds this checkout's dist/ (prepack), and so does `npm run bundle`: test files
 * running at the same time would pack each other's half-deleted dist/. One at a time, across processes: the
 * lock is a folder (mkdir is atomic) holding the owner's pid, taken over when that process is gone.
 */
export async function withPackLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(PACK_LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(PACK_LOCK);
      writeFileSync(join(PACK_LOCK, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(join(PACK_LOCK, "pid"), { encoding: "utf8", flag: "a+" }));
      if (owner > 0 && !processIsAlive(owner)) rmSync(PACK_LOCK, { recursive: true, force: true });
      else await delay(2_000);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(PACK_LOCK, { recursive: true, force: true });
  }
}

/** Packs this checkout (runs `prepack`). Returns the tarball path and its file list. */
export async function packCheckout(destination: string): Promise<{ tarball: string; files: string[] }> {
  const { stdout } = await withPackLock(() =>
    run("npm", ["pack", "--json", "--pack-destination", destination], {
      cwd: REPO_ROOT,
      env: npmEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    }),
  );
  // prepack's own output (tsc, npm run) precedes the JSON on stdout.
  const json = stdout.slice(stdout.indexOf("\n[") + 1 || stdout.indexOf("["));
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  if (info === undefined) throw new Error(`npm pack printed no result:\n${stdout}`);
  return { tarball: join(destination, info.filename), files: info.files.map((f) => f.path) };
}

/** Packs the checkout and installs the tarball globally into a fresh prefix under the system temp folder. */
export async function packAndInstall(): Promise<PackedInstall> {
  const root = mkdtempSync(join(tmpdir(), "mmm-installed-"));
  const home = join(root, "home");
  const workDir = join(root, "work");
  const prefix = join(root, "prefix");
  for (const dir of [home, workDir, prefix]) mkdirSync(dir, { recursive: true });
  try {
    const { tarball, files } = await packCheckout(root);
    await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
      // Compiling better-sqlite3 took 9–14 min on the shared 2-core machine under load: 45 min still
      // stops a hung install.
      { cwd: workDir, env: npmEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 45 * 60_000 },
    );
    return {
      tarball,
      files,
      prefix,
      bin: join(prefix, "bin", "mac-messages-mcp"),
      packageDir: join(prefix, "lib", "node_modules", "mac-messages-mcp"),
      home,
      workDir,
      cleanup: () => rmSync(root, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** Bytes on disk under `dir` (files and symlinks themselves, as `du --apparent-size` counts them). */
export function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(full);
    else total += lstatSync(full, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

/** An environment for the installed command: a clean home, no variables pointing into the checkout. */
export function userEnv(
  installed: PackedInstall,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HOME: installed.home,
    PATH: `${join(installed.prefix, "bin")}:/usr/local/bin:/usr/bin:/bin:${resolve(process.execPath, "..")}`,
    MAC_MESSAGES_MCP_HOME: join(installed.home, ".mac-messages-mcp"),
    ...extra,
  };
}
