import { createHash } from "node:crypto";
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AuditLog, auditLogPath } from "../audit/index.js";
import { ensurePrivateDir, moveAside, readJsonFile, tightenFileMode } from "../util/secure-file.js";
import { RemoteSetupError } from "./errors.js";
import { TemporarilyUnavailableError } from "./oauth-errors.js";

// OAuth state (registered clients, hashed tokens) in SQLite rather than one JSON document: each token is
// one row written in its own transaction, so a refresh costs a few hundred bytes instead of a rewrite of
// every client; a failed write (full disk) rolls back and leaves the old grant usable; and several
// processes (the server, `auth revoke`, a second server by mistake) share the file safely through
// SQLite's own locking. The file is 0600 in the 0700 state folder; tokens are stored only as SHA-256.

const DB_FILE = "oauth_state.db";
const LEGACY_JSON_FILE = "oauth_state.json";
const SCHEMA_VERSION = 1;

/** What a client registered (RFC 7591 metadata after our adjustments); kept as JSON. */
export interface RegisteredClient {
  client_id: string;
  client_id_issued_at: number;
  client_name?: string;
  client_uri?: string;
  software_id?: string;
  software_version?: string;
  scope?: string;
  redirect_uris: string[];
  token_endpoint_auth_method: "none";
  grant_types: string[];
  response_types: string[];
}

export interface ClientRecord {
  info: RegisteredClient;
  registeredAt: number;
  approvedAt?: number;
}

export interface TokenRecord {
  clientId: string;
  scopes: string[];
  resource: string;
  familyId: string;
  issuedAt: number;
  expiresAt: number;
}

export interface RefreshTokenRecord extends TokenRecord {
  /** When it was exchanged for a successor; it then stays valid only for one retry in the grace period. */
  rotatedAt?: number;
  /** The successor's token response, encrypted with a key only the old refresh token yields. */
  successor?: Buffer;
  reuses: number;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function oauthDbPath(stateDir: string): string {
  return join(stateDir, DB_FILE);
}

const RESET_HINT = "Run `mac-messages-mcp auth reset` to move it aside and start with no registered clients.";

interface TokenRow {
  hash: string;
  kind: "access" | "refresh";
  client_id: string;
  family_id: string;
  scopes: string;
  resource: string;
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  successor: Buffer | null;
  reuses: number;
}

function toRecord(row: TokenRow): RefreshTokenRecord {
  return {
    clientId: row.client_id,
    familyId: row.family_id,
    scopes: row.scopes.split(" ").filter((s) => s.length > 0),
    resource: row.resource,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    rotatedAt: row.rotated_at ?? undefined,
    successor: row.successor ?? undefined,
    reuses: row.reuses,
  };
}

/** SQLite result codes that mean "could not write right now", not "bad data": full disk, I/O, locked. */
function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === "string" && /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM)/.test(code)
  );
}

export class OAuthStore {
  private readonly db: Database.Database;

  private constructor(
    readonly path: string,
    private readonly nowSeconds: () => number,
  ) {
    try {
      this.db = new Database(path, { timeout: 5000 });
      this.db.pragma("journal_mode = WAL");
      // FULL: a token the client received is on disk even if the machine loses power right after.
      this.db.pragma("synchronous = FULL");
      this.db.pragma("foreign_keys = ON");
      this.migrate();
    } catch (error) {
      if (error instanceof RemoteSetupError) throw error;
      throw new RemoteSetupError(
        `${path} is corrupt or unreadable (${(error as Error).message}). ${RESET_HINT}`,
      );
    }
    for (const suffix of ["", "-wal", "-shm"]) tightenFileMode(`${path}${suffix}`, 0o600);
  }

  /** Opens (creating if needed) the state database in `stateDir`, importing a legacy oauth_state.json once. */
  static open(stateDir: string, nowSeconds: () => number = () => Math.floor(Date.now() / 1000)): OAuthStore {
    ensurePrivateDir(stateDir);
    const store = new OAuthStore(oauthDbPath(stateDir), nowSeconds);
    store.importLegacyJson(stateDir);
    return store;
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version !== 0) {
      throw new RemoteSetupError(`${this.path} is from an unknown version (${version}). ${RESET_HINT}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS clients (
        client_id TEXT PRIMARY KEY,
        info TEXT NOT NULL,
        registered_at INTEGER NOT NULL,
        approved_at INTEGER
      );
      CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        family_id TEXT NOT NULL,
        scopes TEXT NOT NULL,
        resource TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        rotated_at INTEGER,
        successor BLOB,
        reuses INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS tokens_family ON tokens(family_id);
      CREATE INDEX IF NOT EXISTS tokens_client ON tokens(client_id);
      CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens(expires_at);
      CREATE INDEX IF NOT EXISTS clients_unapproved ON clients(registered_at) WHERE approved_at IS NULL;
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  /** One-time move from the JSON file of earlier versions; the JSON file is kept, renamed. */
  private importLegacyJson(stateDir: string): void {
    const legacy = join(stateDir, LEGACY_JSON_FILE);
    if (!existsSync(legacy)) return;
    const raw = readJsonFile(legacy, RESET_HINT, (m) => new RemoteSetupError(m)) as {
      clients?: Record<string, { info: RegisteredClient; approvedAt?: number }>;
      accessTokens?: Record<string, TokenRecord>;
      refreshTokens?: Record<string, TokenRecord & { rotatedAt?: number }>;
    };
    const now = this.nowSeconds();
    this.transaction(() => {
      for (const [id, record] of Object.entries(raw?.clients ?? {})) {
        if (!record?.info || !Array.isArray(record.info.redirect_uris)) continue;
        this.db
          .prepare(
            "INSERT OR IGNORE INTO clients (client_id, info, registered_at, approved_at) VALUES (?, ?, ?, ?)",
          )
          .run(
            id,
            JSON.stringify(record.info),
            record.info.client_id_issued_at ?? now,
            record.approvedAt ?? null,
          );
      }
      const insert = (
        kind: "access" | "refresh",
        map: Record<string, TokenRecord & { rotatedAt?: number }>,
      ) => {
        for (const [hash, r] of Object.entries(map)) {
          if (r.expiresAt <= now || !this.getClient(r.clientId)) continue;
          this.insertToken(kind, hash, r, r.rotatedAt);
        }
      };
      insert("access", raw?.accessTokens ?? {});
      insert("refresh", raw?.refreshTokens ?? {});
    });
    renameSync(legacy, `${legacy}.migrated-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  }

  /**
   * Runs `work` in one IMMEDIATE transaction (it takes the write lock first, so two processes never
   * interleave read-then-write). A storage failure rolls everything back and becomes a 503 the client may
   * retry: nothing half-done is kept, in memory or on disk.
   */
  transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (error) {
      if (isStorageFailure(error)) {
        throw new TemporarilyUnavailableError(
          "The server could not save its state (is the disk full?). Nothing was changed; try again shortly.",
        );
      }
      throw error;
    }
  }

  /** A read that a storage failure turns into a 503 rather than a stack trace. */
  private read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (isStorageFailure(error)) {
        throw new TemporarilyUnavailableError("The server could not read its state; try again shortly.");
      }
      throw error;
    }
  }

  // --- clients ---------------------------------------------------------------------------------

  getClient(clientId: string): ClientRecord | undefined {
    const row = this.read(
      () =>
        this.db
          .prepare("SELECT info, registered_at, approved_at FROM clients WHERE client_id = ?")
          .get(clientId) as { info: string; registered_at: number; approved_at: number | null } | undefined,
    );
    if (!row) return undefined;
    return {
      info: JSON.parse(row.info) as RegisteredClient,
      registeredAt: row.registered_at,
      approvedAt: row.approved_at ?? undefined,
    };
  }

  listClients(): ClientRecord[] {
    const rows = this.read(
      () =>
        this.db
          .prepare("SELECT info, registered_at, approved_at FROM clients ORDER BY registered_at")
          .all() as { info: string; registered_at: number; approved_at: number | null }[],
    );
    return rows.map((row) => ({
      info: JSON.parse(row.info) as RegisteredClient,
      registeredAt: row.registered_at,
      approvedAt: row.approved_at ?? undefined,
    }));
  }

  countClients(approved: boolean): number {
    const sql = `SELECT count(*) AS n FROM clients WHERE approved_at IS ${approved ? "NOT " : ""}NULL`;
    return this.read(() => (this.db.prepare(sql).get() as { n: number }).n);
  }

  /** Must run inside transaction(). */
  insertClient(info: RegisteredClient): void {
    this.db
      .prepare("INSERT INTO clients (client_id, info, registered_at) VALUES (?, ?, ?)")
      .run(info.client_id, JSON.stringify(info), info.client_id_issued_at);
  }

  /** Replaces what a client's metadata says (a re-fetched metadata document). Must run inside transaction(). */
  updateClientInfo(info: RegisteredClient): void {
    this.db
      .prepare("UPDATE clients SET info = ? WHERE client_id = ?")
      .run(JSON.stringify(info), info.client_id);
  }

  /** Deletes never-approved clients registered at or before `cutoff`. Must run inside transaction(). */
  pruneUnapprovedClients(cutoff: number): number {
    return this.db.prepare("DELETE FROM clients WHERE approved_at IS NULL AND registered_at <= ?").run(cutoff)
      .changes;
  }

  /** Deletes the `count` oldest never-approved clients. Must run inside transaction(). */
  evictOldestUnapprovedClients(count: number): void {
    this.db
      .prepare(
        "DELETE FROM clients WHERE client_id IN (SELECT client_id FROM clients WHERE approved_at IS NULL ORDER BY registered_at, rowid LIMIT ?)",
      )
      .run(count);
  }

  markApproved(clientId: string, at: number): void {
    this.db
      .prepare("UPDATE clients SET approved_at = coalesce(approved_at, ?) WHERE client_id = ?")
      .run(at, clientId);
  }

  /** Removes a client and (by cascade) every token it holds. */
  deleteClient(clientId: string): boolean {
    return this.transaction(
      () => this.db.prepare("DELETE FROM clients WHERE client_id = ?").run(clientId).changes > 0,
    );
  }

  // --- tokens ----------------------------------------------------------------------------------

  getToken(kind: "access" | "refresh", hash: string): RefreshTokenRecord | undefined {
    const row = this.read(
      () =>
        this.db.prepare("SELECT * FROM tokens WHERE hash = ? AND kind = ?").get(hash, kind) as
          | TokenRow
          | undefined,
    );
    return row ? toRecord(row) : undefined;
  }

  /** Must run inside transaction(). */
  insertToken(kind: "access" | "refresh", hash: string, record: TokenRecord, rotatedAt?: number): void {
    this.db
      .prepare(
        `INSERT INTO tokens (hash, kind, client_id, family_id, scopes, resource, issued_at, expires_at, rotated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        hash,
        kind,
        record.clientId,
        record.familyId,
        record.scopes.join(" "),
        record.resource,
        record.issuedAt,
        record.expiresAt,
        rotatedAt ?? null,
      );
  }

  /** Marks a refresh token as exchanged and keeps the (encrypted) successor for one retry. Inside transaction(). */
  markRotated(hash: string, at: number, successor: Buffer): void {
    this.db
      .prepare("UPDATE tokens SET rotated_at = ?, successor = ? WHERE hash = ?")
      .run(at, successor, hash);
  }

  /** Counts a retry with an already rotated refresh token. Inside transaction(). */
  countReuse(hash: string): void {
    this.db.prepare("UPDATE tokens SET reuses = reuses + 1 WHERE hash = ?").run(hash);
  }

  /** Removes every token of one grant. Inside transaction(). */
  revokeFamily(familyId: string): void {
    this.db.prepare("DELETE FROM tokens WHERE family_id = ?").run(familyId);
  }

  /** Inside transaction(). */
  deleteToken(hash: string): void {
    this.db.prepare("DELETE FROM tokens WHERE hash = ?").run(hash);
  }

  /** Drops expired tokens; cheap (indexed), so it runs with every grant. Inside transaction(). */
  pruneExpiredTokens(now: number): void {
    this.db.prepare("DELETE FROM tokens WHERE expires_at <= ?").run(now);
  }

  liveTokens(clientId: string, now: number): (RefreshTokenRecord & { kind: "access" | "refresh" })[] {
    const rows = this.read(
      () =>
        this.db
          .prepare("SELECT * FROM tokens WHERE client_id = ? AND expires_at > ?")
          .all(clientId, now) as TokenRow[],
    );
    return rows.map((row) => Object.assign(toRecord(row), { kind: row.kind }));
  }

  /** Writes a consistent copy of the whole database to `target` (used before `auth reset` empties it). */
  backupTo(target: string): void {
    this.db.prepare("VACUUM INTO ?").run(target);
    tightenFileMode(target, 0o600);
  }

  /** Forgets every client and token. */
  clear(): void {
    this.transaction(() => {
      this.db.exec("DELETE FROM tokens; DELETE FROM clients;");
    });
  }

  close(): void {
    this.db.close();
  }
}

export interface ClientSummary {
  clientId: string;
  clientName?: string;
  redirectUris: string[];
  registeredAt?: number;
  approvedAt?: number;
  scopes: string[];
  activeAccessTokens: number;
  activeRefreshTokens: number;
}

/** What `auth list` shows: one row per registered client, no secrets. */
export function summarizeClients(
  stateDir: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): ClientSummary[] {
  const store = OAuthStore.open(stateDir);
  try {
    return store.listClients().map((record) => {
      const live = store.liveTokens(record.info.client_id, nowSeconds);
      const scopes = [...new Set(live.flatMap((r) => r.scopes))].sort();
      return {
        clientId: record.info.client_id,
        clientName: record.info.client_name,
        redirectUris: record.info.redirect_uris,
        registeredAt: record.registeredAt,
        approvedAt: record.approvedAt,
        scopes,
        activeAccessTokens: live.filter((r) => r.kind === "access").length,
        activeRefreshTokens: live.filter((r) => r.kind === "refresh").length,
      };
    });
  } finally {
    store.close();
  }
}

/**
 * Starts over with no clients or tokens. A copy of the old state is kept beside it, never deleted; an
 * unreadable database (or legacy JSON file) is moved aside whole. Returns where the old state went, or
 * undefined when there was none.
 */
export function resetOAuthState(stateDir: string): string | undefined {
  const legacy = join(stateDir, LEGACY_JSON_FILE);
  let moved: string | undefined;
  if (existsSync(legacy)) {
    let label = "reset";
    try {
      readJsonFile(legacy, RESET_HINT);
    } catch {
      label = "corrupt";
    }
    moved = moveAside(legacy, label);
  }
  const path = oauthDbPath(stateDir);
  if (!existsSync(path)) return moved;
  let store: OAuthStore;
  try {
    store = OAuthStore.open(stateDir);
  } catch {
    for (const suffix of ["-wal", "-shm"]) if (existsSync(path + suffix)) moveAside(path + suffix, "corrupt");
    return moveAside(path, "corrupt");
  }
  try {
    const target = `${path}.reset-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    store.backupTo(target);
    store.clear();
    return target;
  } finally {
    store.close();
  }
}

/** Removes one client and all its tokens. Returns false when no such client is registered. */
export function revokeClient(stateDir: string, clientId: string): boolean {
  const store = OAuthStore.open(stateDir);
  try {
    if (!store.deleteClient(clientId)) return false;
  } finally {
    store.close();
  }
  new AuditLog(auditLogPath(stateDir)).record({ kind: "token_revoked", clientId, reason: "client_revoked" });
  return true;
}
