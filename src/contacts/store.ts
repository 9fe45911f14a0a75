// Read-only access to the macOS Contacts databases (Core Data SQLite stores), merged into one index.
import { closeSync, openSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { FULL_DISK_ACCESS_FIX } from "../util/macos-permissions.js";
import { decodeLabel } from "./labels.js";
import {
  type CountryCode,
  classifyHandle,
  defaultRegion,
  handleKey,
  normalizeEmail,
  normalizePhone,
} from "./phone.js";
import { foldText, searchScore } from "./search.js";

export interface ContactValue {
  /** As typed in Contacts, e.g. "(555) 123-4567". */
  value: string;
  /** Comparable key (see handleKey): "+15551234567", "jane@example.com". */
  key: string;
  /** "mobile", "home", "work", … or a custom label. */
  label: string | null;
}

export interface Contact {
  id: string;
  displayName: string;
  firstName: string | null;
  lastName: string | null;
  nickname: string | null;
  organization: string | null;
  phones: ContactValue[];
  emails: ContactValue[];
}

export interface ContactSearchResult {
  contact: Contact;
  /** 0..1: 1 exact, then prefix, then typo-tolerant matches. */
  score: number;
  /** "fullName" | "firstName" | "lastName" | "nickname" | "organization" | "phone" | "email". */
  matchedOn: string;
}

export interface ContactsSourceStatus {
  path: string;
  contacts: number;
  error?: string;
}

export interface ContactsStatus {
  ok: boolean;
  sources: ContactsSourceStatus[];
  message: string;
}

export interface ContactsStoreOptions {
  /** AddressBook folders (or single .abcddb files). Default: ~/Library/Application Support/AddressBook. */
  roots?: string[];
  /** Region for numbers saved without a country code. Default: defaultRegion(). */
  region?: CountryCode;
}

const STORE_FILE = "AddressBook-v22.abcddb";
const FULL_DISK_ACCESS_HELP = `macOS only lets apps read Contacts with permission: ${FULL_DISK_ACCESS_FIX}`;
// Fallback phone matching compares this many trailing digits, for numbers saved without a country code.
const SUFFIX_DIGITS = 9;

export function defaultAddressBookRoot(): string {
  return join(homedir(), "Library", "Application Support", "AddressBook");
}

/** Whether an error from fs or SQLite means macOS privacy protection (or file permissions) blocked us. */
export function isPermissionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EACCES" || code === "EPERM" || code === "SQLITE_AUTH" || code === "SQLITE_PERM";
}

/** One-line, user-facing explanation of why `path` could not be read (never a stack trace). */
export function describeOpenError(error: unknown, path: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  if (isPermissionError(error)) return `Permission denied reading ${path}. ${FULL_DISK_ACCESS_HELP}`;
  if (code === "ENOENT") return `${path} does not exist.`;
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return `${path} is not a readable Contacts database (corrupt, or not SQLite): ${detail}`;
  }
  if (code === "SQLITE_CANTOPEN") {
    return `Could not open ${path} (${detail}). On macOS this usually means missing permission: ${FULL_DISK_ACCESS_HELP}`;
  }
  if (typeof code === "string" && code.startsWith("SQLITE_")) {
    return `${path} does not look like a Contacts database: ${detail}`;
  }
  return `Could not read ${path}: ${detail}`;
}

interface RawValue {
  value: string;
  label: string | null;
}

interface RawContact {
  uniqueId: string | null;
  fallbackId: string;
  firstName: string | null;
  lastName: string | null;
  nickname: string | null;
  organization: string | null;
  phones: RawValue[];
  emails: RawValue[];
}

interface IndexedContact {
  contact: Contact;
  fields: [field: string, folded: string][];
}

/**
 * The contacts of every Contacts database, merged, with what is needed to look them up. A serving process
 * opens it on first use (`ContactsStore.openOnFirstUse`): reading and normalising every number is a
 * noticeable part of start-up, and a client's first requests (tools/list) need no contact.
 */
export class ContactsStore {
  #loaded: LoadedContacts | undefined;

  private constructor(private readonly load: () => LoadedContacts) {}

  /**
   * Reads every Contacts database under the roots: the top-level AddressBook-v22.abcddb and each
   * Sources/<account>/AddressBook-v22.abcddb, read-only. Unreadable parts are skipped and reported by
   * status(); this never throws for a missing folder or a bad file.
   */
  static open(options: ContactsStoreOptions = {}): ContactsStore {
    const store = ContactsStore.openOnFirstUse(options);
    store.loaded();
    return store;
  }

  /** Like open(), but the databases are read when a contact is first asked for. */
  static openOnFirstUse(options: ContactsStoreOptions = {}): ContactsStore {
    return new ContactsStore(() => readContacts(options));
  }

  /** A store with no contacts, e.g. when Contacts are switched off; status() reports `reason`. */
  static empty(reason: string): ContactsStore {
    return new ContactsStore(() => new LoadedContacts([], [], defaultRegion(), reason));
  }

  private loaded(): LoadedContacts {
    this.#loaded ??= this.load();
    return this.#loaded;
  }

  all(): Contact[] {
    return this.loaded().all();
  }

  /** The contact owning a chat.db handle id (phone in any format, email in any case); null if none. */
  lookupHandle(handleId: string): Contact | null {
    return this.loaded().lookupHandle(handleId);
  }

  displayNameFor(handleId: string): string | null {
    return this.lookupHandle(handleId)?.displayName ?? null;
  }

  /**
   * Contacts matching `query`, best first. Names are matched typo-tolerantly (first, last, full name,
   * nickname, organization); a query that looks like a phone number or email is looked up by value.
   */
  search(query: string, limit = 10): ContactSearchResult[] {
    return this.loaded().search(query, limit);
  }

  status(): ContactsStatus {
    return this.loaded().status();
  }
}

function readContacts(options: ContactsStoreOptions): LoadedContacts {
  const region = options.region ?? defaultRegion();
  const sources: ContactsSourceStatus[] = [];
  const raw: RawContact[] = [];
  let permissionProblem = false;
  for (const root of options.roots ?? [defaultAddressBookRoot()]) {
    const found = findStoreFiles(root);
    if ("error" in found) {
      sources.push({ path: root, contacts: 0, error: describeOpenError(found.error, root) });
      permissionProblem ||= isPermissionError(found.error);
      continue;
    }
    if (found.files.length === 0) {
      sources.push({
        path: root,
        contacts: 0,
        error: `No ${STORE_FILE} found in ${root} or its Sources/ folders.`,
      });
    }
    for (const file of found.files) {
      try {
        const contacts = readStoreFile(file, String(sources.length));
        raw.push(...contacts);
        sources.push({ path: file, contacts: contacts.length });
      } catch (error) {
        sources.push({ path: file, contacts: 0, error: describeOpenError(error, file) });
        permissionProblem ||= isPermissionError(error);
      }
    }
  }
  return new LoadedContacts(mergeContacts(raw, region), sources, region, undefined, permissionProblem);
}

class LoadedContacts {
  private readonly byKey = new Map<string, Contact>();
  /** Trailing digits → contact, or null when several contacts share them (then no fallback match). */
  private readonly byPhoneSuffix = new Map<string, Contact | null>();
  private readonly indexed: IndexedContact[];

  constructor(
    private readonly contacts: Contact[],
    private readonly sources: ContactsSourceStatus[],
    private readonly region: CountryCode,
    private readonly emptyReason?: string,
    private readonly permissionProblem = false,
  ) {
    for (const contact of contacts) {
      for (const value of [...contact.phones, ...contact.emails]) {
        if (!this.byKey.has(value.key)) this.byKey.set(value.key, contact);
      }
      for (const phone of contact.phones) {
        const suffix = phoneSuffix(phone.key);
        if (suffix === null) continue;
        const existing = this.byPhoneSuffix.get(suffix);
        this.byPhoneSuffix.set(suffix, existing === undefined || existing === contact ? contact : null);
      }
    }
    this.indexed = contacts.map((contact) => ({ contact, fields: searchFields(contact) }));
  }

  all(): Contact[] {
    return [...this.contacts];
  }

  lookupHandle(handleId: string): Contact | null {
    const key = handleKey(handleId, this.region);
    const exact = this.byKey.get(key);
    if (exact) return exact;
    const suffix = phoneSuffix(key);
    return suffix === null ? null : (this.byPhoneSuffix.get(suffix) ?? null);
  }

  search(query: string, limit = 10): ContactSearchResult[] {
    const max = Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 10));
    const kind = classifyHandle(query);
    const results = kind === "other" ? this.searchNames(query) : this.searchValues(query, kind);
    return results
      .sort((a, b) => b.score - a.score || a.contact.displayName.localeCompare(b.contact.displayName))
      .slice(0, max);
  }

  status(): ContactsStatus {
    if (this.emptyReason !== undefined) return { ok: false, sources: [], message: this.emptyReason };
    const sources = this.sources.map((s) => ({ ...s }));
    const failed = sources.filter((s) => s.error !== undefined);
    const readCount = sources.length - failed.length;
    const summary = `Read ${this.contacts.length} contacts from ${readCount} Contacts database${readCount === 1 ? "" : "s"}.`;
    if (failed.length === 0 && readCount > 0) return { ok: true, sources, message: summary };
    const problems = failed.map((s) => s.error).join(" ");
    const help =
      this.permissionProblem && !problems.includes(FULL_DISK_ACCESS_HELP) ? ` ${FULL_DISK_ACCESS_HELP}` : "";
    const message = `${summary} ${failed.length} source${failed.length === 1 ? "" : "s"} could not be read: ${problems}${help} Names will show as phone numbers or emails where no contact could be read.`;
    return { ok: false, sources, message };
  }

  private searchNames(query: string): ContactSearchResult[] {
    const folded = foldText(query);
    if (folded === "") return [];
    const results: ContactSearchResult[] = [];
    for (const { contact, fields } of this.indexed) {
      let best = 0;
      let matchedOn = "";
      for (const [field, value] of fields) {
        const score = searchScore(folded, value);
        if (score > best) {
          best = score;
          matchedOn = field;
        }
      }
      if (best > 0) results.push({ contact, score: round(best), matchedOn });
    }
    return results;
  }

  private searchValues(query: string, kind: "email" | "phone"): ContactSearchResult[] {
    const exact = this.lookupHandle(query);
    const key = handleKey(query, this.region);
    const needle = kind === "email" ? key : key.replace(/\D/g, "");
    const results: ContactSearchResult[] = [];
    for (const contact of this.contacts) {
      if (contact === exact) {
        results.push({ contact, score: 1, matchedOn: kind });
        continue;
      }
      if (needle.length < 3) continue;
      // Partial value search: part of an address, or a run of digits inside a number.
      const values =
        kind === "email"
          ? contact.emails.map((e) => e.key)
          : contact.phones.map((p) => p.key.replace(/\D/g, ""));
      const hit = values.find((v) => v.includes(needle));
      if (hit !== undefined)
        results.push({ contact, score: round(0.5 + 0.4 * (needle.length / hit.length)), matchedOn: kind });
    }
    return results;
  }
}

function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}

function phoneSuffix(key: string): string | null {
  if (!/^\+?\d+$/.test(key) || key.replace(/\D/g, "").length < SUFFIX_DIGITS) return null;
  return key.slice(-SUFFIX_DIGITS);
}

function findStoreFiles(root: string): { files: string[] } | { error: unknown } {
  try {
    if (statSync(root).isFile()) return { files: [root] };
    const files: string[] = [];
    const topLevel = join(root, STORE_FILE);
    if (exists(topLevel)) files.push(topLevel);
    const sourcesDir = join(root, "Sources");
    if (exists(sourcesDir)) {
      for (const entry of readdirSync(sourcesDir, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        const file = join(sourcesDir, entry.name, STORE_FILE);
        if (entry.isDirectory() && exists(file)) files.push(file);
      }
    }
    return { files };
  } catch (error) {
    return { error };
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return false;
    throw error;
  }
}

/** Loads one store with one query per table (not per contact): fast for thousands of contacts. */
function readStoreFile(path: string, sourceTag: string): RawContact[] {
  // Opening the file ourselves first turns a macOS privacy denial into a plain EPERM/EACCES.
  closeSync(openSync(path, "r"));
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const entities = db.prepare("SELECT Z_ENT, Z_NAME, Z_SUPER FROM Z_PRIMARYKEY").all() as {
      Z_ENT: number;
      Z_NAME: string;
      Z_SUPER: number;
    }[];
    const contactEntities = entityWithDescendants(entities, "ABCDContact");
    if (contactEntities.length === 0)
      throw Object.assign(new Error("no ABCDContact entity"), { code: "SQLITE_ERROR" });

    const recordColumns = columnsOf(db, "ZABCDRECORD");
    const pick = (column: string) => (recordColumns.has(column) ? column : `NULL AS ${column}`);
    const records = db
      .prepare(
        `SELECT Z_PK, ${pick("ZUNIQUEID")}, ${pick("ZFIRSTNAME")}, ${pick("ZLASTNAME")}, ${pick("ZNICKNAME")},
           ${pick("ZORGANIZATION")}
         FROM ZABCDRECORD WHERE Z_ENT IN (${contactEntities.map(() => "?").join(",")}) ORDER BY Z_PK`,
      )
      .all(...contactEntities) as {
      Z_PK: number;
      ZUNIQUEID: string | null;
      ZFIRSTNAME: string | null;
      ZLASTNAME: string | null;
      ZNICKNAME: string | null;
      ZORGANIZATION: string | null;
    }[];
    const byPk = new Map<number, RawContact>();
    for (const row of records) {
      byPk.set(row.Z_PK, {
        uniqueId: clean(row.ZUNIQUEID)?.replace(/:ABPerson$/, "") ?? null,
        fallbackId: `${sourceTag}:${row.Z_PK}`,
        firstName: clean(row.ZFIRSTNAME),
        lastName: clean(row.ZLASTNAME),
        nickname: clean(row.ZNICKNAME),
        organization: clean(row.ZORGANIZATION),
        phones: [],
        emails: [],
      });
    }
    const phones = db
      .prepare(
        `SELECT ZOWNER AS owner, ZFULLNUMBER AS value, ZLABEL AS label FROM ZABCDPHONENUMBER
         WHERE ZOWNER IS NOT NULL AND ZFULLNUMBER IS NOT NULL ORDER BY ZOWNER, ZORDERINGINDEX, Z_PK`,
      )
      .all() as { owner: number; value: string; label: string | null }[];
    for (const row of phones)
      byPk.get(row.owner)?.phones.push({ value: String(row.value), label: row.label });
    const emails = db
      .prepare(
        `SELECT ZOWNER AS owner, COALESCE(ZADDRESS, ZADDRESSNORMALIZED) AS value, ZLABEL AS label
         FROM ZABCDEMAILADDRESS WHERE ZOWNER IS NOT NULL AND COALESCE(ZADDRESS, ZADDRESSNORMALIZED) IS NOT NULL
         ORDER BY ZOWNER, ZORDERINGINDEX, Z_PK`,
      )
      .all() as { owner: number; value: string; label: string | null }[];
    for (const row of emails)
      byPk.get(row.owner)?.emails.push({ value: String(row.value), label: row.label });
    return [...byPk.values()];
  } finally {
    db.close();
  }
}

/** Entity numbers of `name` and its sub-entities (e.g. ABCDSubscribedContact), found via Z_SUPER. */
function entityWithDescendants(entities: { Z_ENT: number; Z_NAME: string; Z_SUPER: number }[], name: string) {
  const root = entities.find((e) => e.Z_NAME === name);
  if (!root) return [];
  const found = [root.Z_ENT];
  for (let i = 0; i < found.length; i++) {
    for (const e of entities) if (e.Z_SUPER === found[i] && !found.includes(e.Z_ENT)) found.push(e.Z_ENT);
  }
  return found;
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set(db.prepare("SELECT name FROM pragma_table_info(?)").pluck().all(table) as string[]);
}

function clean(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === "" ? null : text;
}

function toContact(raw: RawContact, region: CountryCode): Contact {
  const contact: Contact = {
    id: raw.uniqueId ?? raw.fallbackId,
    displayName: "",
    firstName: raw.firstName,
    lastName: raw.lastName,
    nickname: raw.nickname,
    organization: raw.organization,
    phones: [],
    emails: [],
  };
  addValues(contact.phones, raw.phones, (v) => normalizePhone(v, region) ?? handleKey(v, region));
  addValues(contact.emails, raw.emails, normalizeEmail);
  return contact;
}

function addValues(target: ContactValue[], values: RawValue[], keyOf: (value: string) => string): void {
  for (const { value, label } of values) {
    const key = keyOf(value);
    if (key !== "" && !target.some((t) => t.key === key))
      target.push({ value, key, label: decodeLabel(label) });
  }
}

/** "First Last", else nickname, else organization, else the first phone or email. */
export function displayNameOf(contact: Omit<Contact, "displayName" | "id">): string {
  return (
    fullName(contact) ||
    contact.nickname ||
    contact.organization ||
    contact.phones[0]?.value ||
    contact.emails[0]?.value ||
    "(no name)"
  );
}

/** Identity used to merge cards across accounts: the folded name (cards without any name never merge). */
function nameKey(contact: Contact): string {
  return foldText(fullName(contact) || contact.nickname || contact.organization || "");
}

/** "First Last", or whichever of the two exists; "" for neither. */
function fullName(contact: Pick<Contact, "firstName" | "lastName">): string {
  return [contact.firstName, contact.lastName].filter(Boolean).join(" ");
}

/**
 * The same person often has a card in several accounts (iCloud and Google, say). Cards are merged when
 * they share a unique id, or have the same name and at least one phone/email in common; the merged card
 * keeps the first non-empty value of each field and the union of phones and emails. First source wins.
 */
function mergeContacts(raws: RawContact[], region: CountryCode): Contact[] {
  const merged: Contact[] = [];
  const byUniqueId = new Map<string, Contact>();
  const byValueKey = new Map<string, Contact[]>();
  for (const raw of raws) {
    const contact = toContact(raw, region);
    const name = nameKey(contact);
    const keys = [...contact.phones, ...contact.emails].map((v) => v.key);
    let target = raw.uniqueId ? byUniqueId.get(raw.uniqueId) : undefined;
    if (!target && name !== "") {
      target = keys.flatMap((k) => byValueKey.get(k) ?? []).find((candidate) => nameKey(candidate) === name);
    }
    if (target) {
      mergeInto(target, contact);
    } else {
      target = contact;
      merged.push(contact);
    }
    if (raw.uniqueId && !byUniqueId.has(raw.uniqueId)) byUniqueId.set(raw.uniqueId, target);
    for (const key of keys) {
      const list = byValueKey.get(key) ?? [];
      if (!list.includes(target)) list.push(target);
      byValueKey.set(key, list);
    }
  }
  for (const contact of merged) {
    contact.displayName = displayNameOf(contact);
    Object.freeze(contact.phones);
    Object.freeze(contact.emails);
    Object.freeze(contact);
  }
  return merged;
}

function mergeInto(target: Contact, other: Contact): void {
  target.firstName ??= other.firstName;
  target.lastName ??= other.lastName;
  target.nickname ??= other.nickname;
  target.organization ??= other.organization;
  for (const phone of other.phones)
    if (!target.phones.some((p) => p.key === phone.key)) target.phones.push(phone);
  for (const email of other.emails)
    if (!target.emails.some((e) => e.key === email.key)) target.emails.push(email);
}

function searchFields(contact: Contact): [string, string][] {
  // Specific fields first: on equal scores the first field is reported as matchedOn.
  const fields: [string, string | null][] = [
    ["firstName", contact.firstName],
    ["lastName", contact.lastName],
    ["nickname", contact.nickname],
    ["organization", contact.organization],
    ["fullName", fullName(contact)],
  ];
  return fields.flatMap(([field, value]) => (value ? [[field, foldText(value)] as [string, string]] : []));
}
