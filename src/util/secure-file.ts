import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

// Owner-only state files (OAuth state, owner password, scheduled messages): written atomically, 0600 in a
// 0700 folder, and read back with errors that say how to recover. Shared by remote mode and the scheduler.

/** A state file that cannot be read or parsed; the message says what to do about it. */
export class StateFileError extends Error {
  override readonly name: string = "StateFileError";
}

/**
 * Creates the state directory owner-only (0700), and tightens one that already existed with looser
 * permissions (a folder made by hand, or by an older version, is often 0755) when it is ours to change.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tightenFileMode(dir, 0o700);
}

/** Removes group/other permissions from a file or folder we own; missing files and foreign owners are left alone. */
export function tightenFileMode(path: string, mode: 0o600 | 0o700): void {
  try {
    const info = statSync(path);
    if ((info.mode & 0o077) === 0) return;
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) return;
    chmodSync(path, mode);
  } catch {
    // Gone, or not ours to change: nothing more to do here.
  }
}

/**
 * Writes `content` so that readers see either the old file or the new one, never a torn one:
 * temp file (0600) in the same directory, fsync, rename over the target, fsync the directory.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const dir = dirname(path);
  ensurePrivateDir(dir);
  removeStaleTempFiles(path);
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tempPath, "wx", 0o600);
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
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

/** Whether a process with this id exists (EPERM: it does, but belongs to someone else). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Deletes temp files that writeFileAtomic left behind when its process was killed mid-write (they hold
 * secrets, so they should not pile up). Files of processes still running are theirs to finish.
 */
export function removeStaleTempFiles(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    // Our own pid: a write in progress on this thread cannot be stale (writes are synchronous) but is ours.
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processIsAlive(pid)) continue;
    try {
      unlinkSync(join(dirname(path), name));
    } catch {
      // Already gone (another process cleaned it up): nothing to do.
    }
  }
}

/** Reads a JSON file; `undefined` when it does not exist. Unparseable content is a setup error naming the file. */
export function readJsonFile(
  path: string,
  howToFix: string,
  makeError: (message: string) => Error = (message) => new StateFileError(message),
): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw makeError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw makeError(`${path} is corrupt (not valid JSON). ${howToFix}`);
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
