// Writes macOS Contacts stores (AddressBook-v22.abcddb) from Apple's real schema, for demo data and tests.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { encodeLabel, normalizeEmail } from "../contacts/index.js";
import { readSchemaSql } from "./schema.js";

export interface AddressBookValue {
  value: string;
  /** "mobile", "home", "work", … are stored as Contacts' built-in labels; anything else verbatim. */
  label?: string;
}

export interface AddressBookEntry {
  firstName?: string;
  lastName?: string;
  nickname?: string;
  organization?: string;
  phones?: AddressBookValue[];
  emails?: AddressBookValue[];
}

export interface WriteAddressBookOptions {
  /** Creation/modification time stored on every record (default: now). */
  createdAt?: Date;
  /** Makes ZUNIQUEID values reproducible (default: random UUIDs, as Contacts.app makes). */
  uniqueIdSeed?: string;
}

const CORE_DATA_EPOCH_MS = Date.UTC(2001, 0, 1);

/**
 * Creates a new AddressBook store at `path` holding `contacts`, with rows shaped the way Contacts.app
 * writes them: Z_ENT looked up by entity name in Z_PRIMARYKEY, Z_OPT, ZOWNER (+ the Z<n>_OWNER entity
 * column) on phone and email rows, labels like "_$!<Mobile>!$_", and Z_MAX bumped. Parent folders are
 * created; an existing file is never overwritten. The file is built under a temporary name and renamed,
 * so a failure leaves nothing half-written.
 */
export function writeAddressBook(
  path: string,
  contacts: AddressBookEntry[],
  options: WriteAddressBookOptions = {},
): void {
  contacts.forEach(validateEntry);
  if (existsSync(path)) throw new Error(`${path} already exists; refusing to overwrite it`);
  mkdirSync(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const db = new Database(temporaryPath);
    try {
      db.exec(readSchemaSql("addressbook"));
      db.transaction(() => insertContacts(db, contacts, options))();
    } finally {
      db.close(); // checkpoints the WAL into the main file and removes -wal/-shm
    }
    renameSync(temporaryPath, path);
  } catch (error) {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(temporaryPath + suffix, { force: true });
    throw error;
  }
}

function validateEntry(entry: AddressBookEntry, index: number): void {
  const where = `contact #${index + 1}`;
  if (typeof entry !== "object" || entry === null) throw new Error(`${where} is not an object`);
  for (const field of ["firstName", "lastName", "nickname", "organization"] as const) {
    const value = entry[field];
    if (value !== undefined && typeof value !== "string")
      throw new Error(`${where}: ${field} must be a string`);
  }
  for (const field of ["phones", "emails"] as const) {
    const values = entry[field];
    if (values === undefined) continue;
    if (!Array.isArray(values)) throw new Error(`${where}: ${field} must be an array`);
    values.forEach((item, i) => {
      if (typeof item?.value !== "string" || item.value.trim() === "") {
        throw new Error(`${where}: ${field}[${i}].value must be a non-empty string`);
      }
      if (item.label !== undefined && typeof item.label !== "string") {
        throw new Error(`${where}: ${field}[${i}].label must be a string`);
      }
    });
  }
}

function insertContacts(
  db: Database.Database,
  contacts: AddressBookEntry[],
  options: WriteAddressBookOptions,
) {
  const entityRows = db.prepare("SELECT Z_ENT, Z_NAME, Z_SUPER FROM Z_PRIMARYKEY").all() as {
    Z_ENT: number;
    Z_NAME: string;
    Z_SUPER: number;
  }[];
  const entity = (name: string) => {
    const row = entityRows.find((r) => r.Z_NAME === name);
    if (!row) throw new Error(`AddressBook schema has no ${name} entity in Z_PRIMARYKEY`);
    return row;
  };
  const contactEntity = entity("ABCDContact");
  const phoneEntity = entity("ABCDPhoneNumber").Z_ENT;
  const emailEntity = entity("ABCDEmailAddress").Z_ENT;
  // The Z<n>_OWNER column records the owner's entity; its number differs between macOS versions.
  const phoneOwnerEntityColumn = ownerEntityColumn(db, "ZABCDPHONENUMBER");
  const emailOwnerEntityColumn = ownerEntityColumn(db, "ZABCDEMAILADDRESS");

  const timestamp = ((options.createdAt ?? new Date()).getTime() - CORE_DATA_EPOCH_MS) / 1000;
  const makeUniqueId = uniqueIdMaker(options.uniqueIdSeed);

  const insertRecord = db.prepare(
    `INSERT INTO ZABCDRECORD (Z_PK, Z_ENT, Z_OPT, ZDISPLAYFLAGS, ZCREATIONDATE, ZMODIFICATIONDATE, ZUNIQUEID,
       ZFIRSTNAME, ZLASTNAME, ZNICKNAME, ZORGANIZATION)
     VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertPhone = db.prepare(
    `INSERT INTO ZABCDPHONENUMBER (Z_PK, Z_ENT, Z_OPT, ZORDERINGINDEX, ZOWNER, ${phoneOwnerEntityColumn},
       ZFULLNUMBER, ZLABEL, ZLASTFOURDIGITS, ZUNIQUEID)
     VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertEmail = db.prepare(
    `INSERT INTO ZABCDEMAILADDRESS (Z_PK, Z_ENT, Z_OPT, ZORDERINGINDEX, ZOWNER, ${emailOwnerEntityColumn},
       ZADDRESS, ZADDRESSNORMALIZED, ZLABEL, ZUNIQUEID)
     VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
  );

  let recordPk = 0;
  let phonePk = 0;
  let emailPk = 0;
  for (const contact of contacts) {
    recordPk += 1;
    const hasPersonName = Boolean(contact.firstName || contact.lastName);
    // ZDISPLAYFLAGS 1 = "show as company" (kABShowAsCompany), what Contacts sets on organisation-only cards.
    const displayFlags = !hasPersonName && contact.organization ? 1 : 0;
    insertRecord.run(
      recordPk,
      contactEntity.Z_ENT,
      displayFlags,
      timestamp,
      timestamp,
      `${makeUniqueId()}:ABPerson`,
      contact.firstName ?? null,
      contact.lastName ?? null,
      contact.nickname ?? null,
      contact.organization ?? null,
    );
    (contact.phones ?? []).forEach((phone, order) => {
      phonePk += 1;
      const lastFour = phone.value.replace(/\D/g, "").slice(-4) || null;
      const label = encodeLabel(phone.label);
      insertPhone.run(
        phonePk,
        phoneEntity,
        order,
        recordPk,
        contactEntity.Z_ENT,
        phone.value,
        label,
        lastFour,
        makeUniqueId(),
      );
    });
    (contact.emails ?? []).forEach((email, order) => {
      emailPk += 1;
      const label = encodeLabel(email.label);
      const normalized = normalizeEmail(email.value);
      insertEmail.run(
        emailPk,
        emailEntity,
        order,
        recordPk,
        contactEntity.Z_ENT,
        email.value,
        normalized,
        label,
        makeUniqueId(),
      );
    });
  }

  // Core Data hands out primary keys per table from the root entity's Z_MAX (ABCDRecord for contacts).
  const setMax = db.prepare("UPDATE Z_PRIMARYKEY SET Z_MAX = ? WHERE Z_ENT = ?");
  setMax.run(recordPk, rootEntity(entityRows, contactEntity).Z_ENT);
  setMax.run(phonePk, phoneEntity);
  setMax.run(emailPk, emailEntity);
}

function ownerEntityColumn(db: Database.Database, table: string): string {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
  const column = columns.find((name) => /^Z\d+_OWNER$/.test(name));
  if (!column) throw new Error(`AddressBook schema: ${table} has no Z<n>_OWNER column`);
  return column;
}

function rootEntity<T extends { Z_ENT: number; Z_SUPER: number }>(rows: T[], start: T): T {
  let current = start;
  for (let depth = 0; current.Z_SUPER !== 0 && depth < rows.length; depth++) {
    const parent = rows.find((r) => r.Z_ENT === current.Z_SUPER);
    if (!parent) break;
    current = parent;
  }
  return current;
}

/** Upper-case UUIDs like Contacts makes; derived from a seed (and a counter) when one is given. */
function uniqueIdMaker(seed: string | undefined): () => string {
  if (seed === undefined) return () => randomUUID().toUpperCase();
  let counter = 0;
  return () => {
    const hex = createHash("sha256").update(`${seed}\0${counter++}`).digest("hex").slice(0, 32);
    return [
      hex.slice(0, 8),
      hex.slice(8, 12),
      `4${hex.slice(13, 16)}`,
      `8${hex.slice(17, 20)}`,
      hex.slice(20, 32),
    ]
      .join("-")
      .toUpperCase();
  };
}
