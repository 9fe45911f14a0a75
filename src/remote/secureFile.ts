import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { RemoteSetupError } from "./errors.js";

/** Creates the state directory owner-only (0700) if it does not exist yet. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Writes `content` so that readers see either the old file or the new one, never a torn one:
 * temp file (0600) in the same directory, fsync, rename over the target, fsync the directory.
 */
export function writeFileAtomic(path: string, content: string): void {
  const dir = dirname(path);
  ensurePrivateDir(dir);
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tempPath, "wx", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tempPath, path);
  try {
    const dirFd = openSync(dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself already happened.
  }
}

/** Reads a JSON file; `undefined` when it does not exist. Unparseable content is a setup error naming the file. */
export function readJsonFile(path: string, howToFix: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new RemoteSetupError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RemoteSetupError(`${path} is corrupt (not valid JSON). ${howToFix}`);
  }
}

/** Identity of the file on disk, used to notice when another process (the `auth` CLI) replaced it. */
export function fileFingerprint(path: string): string | undefined {
  try {
    const info = statSync(path);
    return `${info.ino}:${info.mtimeMs}:${info.size}`;
  } catch {
    return undefined;
  }
}

/** Moves a file aside as `<name>.<label>-<timestamp>` (never deletes it) and returns the new path. */
export function moveAside(path: string, label: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const target = `${path}.${label}-${stamp}`;
  renameSync(path, target);
  return target;
}
