import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { fileFingerprint, readJsonFile, writeFileAtomic } from "../util/secure-file.js";
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

/** scrypt parameters we accept from the file: what we write, and sane neighbours (never 0, never absurd). */
function paramsProblem(v: StoredOwnerPassword): string | undefined {
  if (!(v.N >= 2 ** 10 && v.N <= 2 ** 20 && (v.N & (v.N - 1)) === 0))
    return "N must be a power of two from 2^10 to 2^20";
  if (!(v.r >= 1 && v.r <= 32)) return "r must be between 1 and 32";
  if (!(v.p >= 1 && v.p <= 16)) return "p must be between 1 and 16";
  const salt = Buffer.from(v.salt, "base64");
  const hash = Buffer.from(v.hash, "base64");
  if (salt.length < 16) return "the salt is missing or shorter than 16 bytes";
  // An empty hash would make every candidate "match" a zero-length key: refuse it outright.
  if (hash.length < 32 || hash.length > 128) return "the hash is missing or not 32 to 128 bytes long";
  return undefined;
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
  const problem = ok ? paramsProblem(v as StoredOwnerPassword) : "fields are missing or of the wrong type";
  if (problem) {
    throw new RemoteSetupError(
      `${path} is not a valid owner password file (${problem}). Run \`mac-messages-mcp auth set-password\` to set it again.`,
    );
  }
  return v as StoredOwnerPassword;
}

function readStored(path: string): StoredOwnerPassword | undefined {
  const raw = readJsonFile(
    path,
    "Run `mac-messages-mcp auth set-password` to set the owner password again.",
    (message) => new RemoteSetupError(message),
  );
  return raw === undefined ? undefined : parseStored(raw, path);
}

export interface OwnerPasswordChecker {
  verify(candidate: string): Promise<boolean>;
}

/**
 * A checker for the stored owner password, or `undefined` when none is set. The file is looked at again
 * (one stat) before every check, so `auth set-password` reaches a running server at once; a file that
 * became unreadable or invalid fails closed: no password is accepted until it is fixed.
 */
export function loadOwnerPassword(
  stateDir: string,
  onProblem: (message: string) => void = () => {},
): OwnerPasswordChecker | undefined {
  const path = ownerPasswordPath(stateDir);
  let stored = readStored(path);
  if (stored === undefined) return undefined;
  let fingerprint = fileFingerprint(path);
  return {
    async verify(candidate: string): Promise<boolean> {
      const current = fileFingerprint(path);
      if (current !== fingerprint) {
        try {
          stored = readStored(path);
          fingerprint = current;
          if (stored === undefined)
            onProblem(`${path} was removed: no password is accepted until one is set again`);
        } catch (error) {
          stored = undefined;
          onProblem(`${(error as Error).message} No password is accepted until it is fixed.`);
        }
      }
      if (stored === undefined) return false;
      const expected = Buffer.from(stored.hash, "base64");
      const actual = await scryptAsync(
        candidate,
        Buffer.from(stored.salt, "base64"),
        stored,
        expected.length,
      );
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
