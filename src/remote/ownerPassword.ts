import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic } from "../util/secure-file.js";
import { RemoteSetupError } from "./errors.js";

const OWNER_PASSWORD_FILE = "owner_password.json";
const MIN_OWNER_PASSWORD_LENGTH = 12;

/** scrypt cost: N=2^15, r=8 needs 32 MiB, hence the raised maxmem; about 0.1 s per check. */
const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keyLength: 64 } as const;

interface StoredOwnerPassword {
  version: 1;
  algorithm: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
  createdAt: string;
}

function scryptAsync(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
  keyLength: number,
) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      keyLength,
      { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export function ownerPasswordPath(stateDir: string): string {
  return join(stateDir, OWNER_PASSWORD_FILE);
}

export function validateNewOwnerPassword(password: string): string | undefined {
  if (password.length < MIN_OWNER_PASSWORD_LENGTH) {
    return `The owner password must be at least ${MIN_OWNER_PASSWORD_LENGTH} characters long.`;
  }
  if (password.trim() !== password) return "The owner password must not start or end with whitespace.";
  return undefined;
}

/** Hashes and stores the owner password (0600, atomic). */
export async function setOwnerPassword(stateDir: string, password: string): Promise<void> {
  const problem = validateNewOwnerPassword(password);
  if (problem) throw new RemoteSetupError(problem);
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT_PARAMS;
  const hash = await scryptAsync(password, salt, { N, r, p }, keyLength);
  const stored: StoredOwnerPassword = {
    version: 1,
    algorithm: "scrypt",
    N,
    r,
    p,
    salt: salt.toString("base64"),
    hash: hash.toString("base64"),
    createdAt: new Date().toISOString(),
  };
  writeFileAtomic(ownerPasswordPath(stateDir), `${JSON.stringify(stored, null, 2)}\n`);
}

function parseStored(value: unknown, path: string): StoredOwnerPassword {
  const v = value as Partial<StoredOwnerPassword> | null;
  const ok =
    v !== null &&
    typeof v === "object" &&
    v.algorithm === "scrypt" &&
    typeof v.salt === "string" &&
    typeof v.hash === "string" &&
    Number.isInteger(v.N) &&
    Number.isInteger(v.r) &&
    Number.isInteger(v.p);
  if (!ok) {
    throw new RemoteSetupError(
      `${path} is not a valid owner password file. Run \`mac-messages-mcp auth set-password\` to set it again.`,
    );
  }
  return v as StoredOwnerPassword;
}

/** A checker for the stored owner password, or `undefined` when none is set. */
export function loadOwnerPassword(
  stateDir: string,
): { verify(candidate: string): Promise<boolean> } | undefined {
  const path = ownerPasswordPath(stateDir);
  const raw = readJsonFile(
    path,
    "Run `mac-messages-mcp auth set-password` to set the owner password again.",
    (message) => new RemoteSetupError(message),
  );
  if (raw === undefined) return undefined;
  const stored = parseStored(raw, path);
  const salt = Buffer.from(stored.salt, "base64");
  const expected = Buffer.from(stored.hash, "base64");
  return {
    async verify(candidate: string): Promise<boolean> {
      const actual = await scryptAsync(candidate, salt, stored, expected.length);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
