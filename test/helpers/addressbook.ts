// Builds macOS-shaped AddressBook folders (top-level store + Sources/<id>/ stores) in a temp dir.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AddressBookEntry, writeAddressBook } from "../../src/demo/addressbook-writer.js";

export const STORE_FILE = "AddressBook-v22.abcddb";

export interface AddressBookLayout {
  /** Contacts in the top-level ("On My Mac") store; omitted = no top-level file. */
  topLevel?: AddressBookEntry[];
  /** Per account folder name under Sources/. */
  sources?: Record<string, AddressBookEntry[]>;
}

export interface TempAddressBook {
  root: string;
  /** Path of the store for a source name, or of the top-level store when called without one. */
  storePath(source?: string): string;
  cleanup(): void;
}

export function makeTempDir(prefix = "contacts-test-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function buildAddressBook(layout: AddressBookLayout): TempAddressBook {
  const temp = makeTempDir();
  const root = join(temp.dir, "AddressBook");
  mkdirSync(root);
  const storePath = (source?: string) =>
    source ? join(root, "Sources", source, STORE_FILE) : join(root, STORE_FILE);
  if (layout.topLevel) writeAddressBook(storePath(), layout.topLevel);
  for (const [source, entries] of Object.entries(layout.sources ?? {}))
    writeAddressBook(storePath(source), entries);
  return { root, storePath, cleanup: temp.cleanup };
}
