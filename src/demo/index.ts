// Public face of the demo data: a realistic sample Messages database + Contacts for machines with no Mac.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type DemoPaths, generateDemo } from "./generate.js";

export {
  type AttachmentInput,
  ChatDbWriter,
  type ChatDbWriterOptions,
  type ChatInput,
  type HandleInput,
  type MessageInput,
  type RowRef,
  registerAppleTriggerFunctions,
} from "./chatdb-writer.js";
export {
  DEFAULT_DEMO_MESSAGES,
  DEFAULT_DEMO_SEED,
  type DemoPaths,
  type GenerateDemoOptions,
  generateDemo,
  MIN_DEMO_MESSAGES,
} from "./generate.js";

export interface EnsureDemoOptions {
  /** Default `<os.tmpdir()>/mac-messages-mcp-demo`. */
  dir?: string;
  now?: Date;
  /** Regenerate when the demo is older than this, so "last 24 hours" keeps content. Default 6. */
  maxAgeHours?: number;
}

/** Written last inside a finished demo folder: its presence means the demo is complete. */
const MARKER = "demo.json";

export function defaultDemoDir(): string {
  return join(tmpdir(), "mac-messages-mcp-demo");
}

function pathsFor(dir: string): DemoPaths {
  return {
    dir,
    chatDb: join(dir, "Messages", "chat.db"),
    contactsRoot: join(dir, "AddressBook"),
    attachmentsDir: join(dir, "Messages", "Attachments"),
  };
}

function generatedAt(dir: string): Date | null {
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), "utf8")) as { generatedAt?: unknown };
    const at = typeof marker.generatedAt === "string" ? new Date(marker.generatedAt) : null;
    return at && !Number.isNaN(at.getTime()) && existsSync(join(dir, "Messages", "chat.db")) ? at : null;
  } catch {
    return null;
  }
}

/**
 * Returns a complete demo folder, generating it when missing, incomplete or older than `maxAgeHours`.
 * A new demo is built in a temporary sibling folder and renamed into place, so a half-written demo is
 * never used (and a concurrent reader keeps its old files until it reopens them).
 */
export function ensureDemoData(options: EnsureDemoOptions = {}): DemoPaths & { generated: boolean } {
  const dir = options.dir ?? defaultDemoDir();
  const now = options.now ?? new Date();
  const maxAgeHours = options.maxAgeHours ?? 6;
  if (!(maxAgeHours >= 0)) throw new Error(`maxAgeHours must be a non-negative number (got ${maxAgeHours})`);
  const at = generatedAt(dir);
  if (at && now.getTime() - at.getTime() <= maxAgeHours * 3_600_000 && at.getTime() <= now.getTime()) {
    return { ...pathsFor(dir), generated: false };
  }

  mkdirSync(dirname(dir), { recursive: true });
  const temporary = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    generateDemo({ dir: temporary, now });
    writeFileSync(join(temporary, MARKER), `${JSON.stringify({ generatedAt: now.toISOString() })}\n`);
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(dir)) renameSync(dir, old);
    try {
      renameSync(temporary, dir);
    } catch (error) {
      // Another process put a fresh demo in place between our two renames: use theirs.
      if (!generatedAt(dir)) throw error;
      rmSync(temporary, { recursive: true, force: true });
    }
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return { ...pathsFor(dir), generated: true };
}
