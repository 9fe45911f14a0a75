// The test-only real clients (Claude Code CLI, MCP Inspector, the official conformance suite and the Node 22
// they need) at the exact versions pinned in test/real-clients/pinned/. They are not project dependencies:
// a user's `npm ci` never downloads ~700 MB of test clients. `bash scripts/test.sh` installs them through
// test/real-clients/install.ts into a cache folder named after the pinned lockfile's hash, so every
// checkout on a machine (worktrees, CI's fresh clone) shares one install, and a changed pin installs anew.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const PINNED_DIR = resolve(import.meta.dirname, "..", "real-clients", "pinned");
const MANIFEST_FILES = ["package.json", "package-lock.json"] as const;
/** Written last, after every binary answered: its presence means the install is complete. */
const STAMP_FILE = "installed.json";

export interface RealClients {
  dir: string;
  /** Node 22 from the `node` npm package; the conformance suite and Inspector 2.x need Node ≥ 22. */
  node22: string;
  /** Claude Code's native binary (run directly, no Node involved). */
  claude: string;
  /** JavaScript entry points, run with `node22`. */
  inspector: string;
  conformance: string;
  versions: Record<string, string>;
}

/** Where the pinned clients are installed: $MAC_MESSAGES_REAL_CLIENTS, else a per-lockfile cache folder. */
export function realClientsDir(): string {
  if (process.env.MAC_MESSAGES_REAL_CLIENTS) return resolve(process.env.MAC_MESSAGES_REAL_CLIENTS);
  const hash = createHash("sha256");
  for (const file of MANIFEST_FILES) hash.update(readFileSync(join(PINNED_DIR, file)));
  const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheRoot, "mac-messages-mcp", "real-clients", hash.digest("hex").slice(0, 16));
}

function binTarget(dir: string, name: string): string {
  // The .bin links point into each package; resolving them keeps us independent of package layouts.
  return realpathSync(join(dir, "node_modules", ".bin", name));
}

function locate(dir: string): Omit<RealClients, "versions"> {
  return {
    dir,
    node22: join(dir, "node_modules", "node", "bin", "node"),
    claude: binTarget(dir, "claude"),
    inspector: binTarget(dir, "mcp-inspector"),
    conformance: binTarget(dir, "conformance"),
  };
}

/** The installed clients, or null when they are not (completely) installed. */
export function findRealClients(): RealClients | null {
  const dir = realClientsDir();
  const stamp = join(dir, STAMP_FILE);
  if (!existsSync(stamp)) return null;
  try {
    const versions = JSON.parse(readFileSync(stamp, "utf8")) as Record<string, string>;
    return { ...locate(dir), versions };
  } catch {
    return null;
  }
}

function versionOf(command: string, args: string[]): string {
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${run.status ?? run.signal}): ${run.stderr}`);
  }
  return run.stdout.trim();
}

/**
 * Installs the pinned clients unless already there (then it only reads the stamp: fast and idempotent).
 * The install happens in a staging folder renamed into place when complete, so an interrupted or
 * concurrent install never leaves a half-populated folder that looks finished.
 */
export function installRealClients(log: (line: string) => void = () => {}): RealClients {
  const found = findRealClients();
  if (found) return found;
  const dir = realClientsDir();
  mkdirSync(dirname(dir), { recursive: true });
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    for (const file of MANIFEST_FILES) copyFileSync(join(PINNED_DIR, file), join(staging, file));
    log(`Installing the pinned real clients for the tests into ${dir} (once per pin; several minutes).`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const install = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: staging,
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 20 * 60_000,
    });
    if (install.status !== 0) throw new Error(`npm ci of the pinned real clients failed (${install.status})`);
    const bins = locate(staging);
    const versions = {
      node22: versionOf(bins.node22, ["--version"]),
      claude: versionOf(bins.claude, ["--version"]),
      inspector: versionOf(bins.node22, [bins.inspector, "--version"]),
      conformance: versionOf(bins.node22, [bins.conformance, "--version"]),
    };
    writeFileSync(join(staging, STAMP_FILE), `${JSON.stringify(versions, null, 2)}\n`);
    // A folder without a stamp is an interrupted install or removal: replace it.
    if (!findRealClients()) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another process finished the same install first: use theirs.
      if (!findRealClients()) throw error;
      rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  pruneOtherPins(dir, log);
  const installed = findRealClients();
  if (!installed) throw new Error(`the real clients were installed but ${dir} is not complete`);
  log(
    `Installed: ${Object.entries(installed.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  return installed;
}

/** Installs of other pins older than this are removed when a new pin is installed. */
const STALE_PIN_MS = 7 * 24 * 3_600_000;

/**
 * Complete installs of other pins are removed once a week old, so changed pins do not pile up 700 MB each,
 * while a checkout still on the previous pin (another worktree, a branch) keeps its clients for a while.
 */
function pruneOtherPins(current: string, log: (line: string) => void): void {
  const parent = dirname(current);
  for (const entry of readdirSync(parent)) {
    const path = join(parent, entry);
    if (path === current || entry.includes(".staging-")) continue;
    const stamp = join(path, STAMP_FILE);
    if (!existsSync(stamp) || Date.now() - statSync(stamp).mtimeMs < STALE_PIN_MS) continue;
    log(`Removing the real clients of an earlier pin: ${path}`);
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * For test files: the installed clients, or a skip reason when they are missing on a developer's machine.
 * On CI (CI=true) missing clients are an error: scripts/test.sh installs them, so absence is a bug there.
 */
export function realClientsOrSkip(): { clients: RealClients; skip: false } | { clients: null; skip: string } {
  const clients = findRealClients();
  if (clients) return { clients, skip: false };
  const reason =
    "the pinned real clients are not installed: run `node --import tsx test/real-clients/install.ts` " +
    "(bash scripts/test.sh does it)";
  if (process.env.CI === "true") throw new Error(reason);
  return { clients: null, skip: reason };
}
