import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type OAuthClientInformationFull,
  OAuthClientInformationFullSchema,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import * as z from "zod";
import { AuditLog, auditLogPath } from "../audit/index.js";
import {
  fileFingerprint,
  moveAside,
  readJsonFile,
  removeStaleTempFiles,
  writeFileAtomic,
} from "../util/secure-file.js";
import { RemoteSetupError } from "./errors.js";

const OAUTH_STATE_FILE = "oauth_state.json";

const TokenRecordSchema = z.object({
  clientId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  familyId: z.string(),
  issuedAt: z.number().int(),
  expiresAt: z.number().int(),
});
const RefreshTokenRecordSchema = TokenRecordSchema.extend({ rotatedAt: z.number().int().optional() });
const ClientRecordSchema = z.object({
  info: OAuthClientInformationFullSchema,
  approvedAt: z.number().int().optional(),
});
const StateSchema = z.object({
  version: z.literal(1),
  clients: z.record(z.string(), ClientRecordSchema),
  /** Keyed by SHA-256 of the token: a stolen state file does not hand out working tokens. */
  accessTokens: z.record(z.string(), TokenRecordSchema),
  refreshTokens: z.record(z.string(), RefreshTokenRecordSchema),
});

export type TokenRecord = z.infer<typeof TokenRecordSchema>;
export type RefreshTokenRecord = z.infer<typeof RefreshTokenRecordSchema>;
export type ClientRecord = { info: OAuthClientInformationFull; approvedAt?: number };
export type OAuthStateData = z.infer<typeof StateSchema>;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function oauthStatePath(stateDir: string): string {
  return join(stateDir, OAUTH_STATE_FILE);
}

const RESET_HINT = "Run `mac-messages-mcp auth reset` to move it aside and start with no registered clients.";

function emptyState(): OAuthStateData {
  return { version: 1, clients: {}, accessTokens: {}, refreshTokens: {} };
}

function parseState(raw: unknown, path: string): OAuthStateData {
  if (raw === undefined) return emptyState();
  const parsed = StateSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? ` (at ${first.path.join(".") || "top level"}: ${first.message})` : "";
    throw new RemoteSetupError(`${path} is corrupt or from an unknown version${where}. ${RESET_HINT}`);
  }
  return parsed.data as OAuthStateData;
}

/** Reads and validates the state file at `path` (empty state when there is none). */
function readState(path: string): OAuthStateData {
  const raw = readJsonFile(path, RESET_HINT, (message) => new RemoteSetupError(message));
  return parseState(raw, path);
}

/** Loads the state file; throws a RemoteSetupError naming the file when it is corrupt. */
export function loadOAuthState(stateDir: string): OAuthStateData {
  return readState(oauthStatePath(stateDir));
}

/**
 * Persisted OAuth state (clients, hashed tokens) shared by the server and the `auth` CLI.
 * Every change is written atomically at once; the file is re-read when another process
 * (e.g. `auth revoke`) replaced it, so CLI changes reach a running server.
 */
export class OAuthStateStore {
  readonly path: string;
  private data: OAuthStateData;
  private knownFingerprint: string | undefined;

  constructor(
    stateDir: string,
    private readonly nowSeconds: () => number,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.path = oauthStatePath(stateDir);
    removeStaleTempFiles(this.path);
    this.data = readState(this.path);
    this.knownFingerprint = fileFingerprint(this.path);
  }

  /** Picks up changes made by another process since our last read or write. */
  private syncFromDisk(): void {
    const current = fileFingerprint(this.path);
    if (current === this.knownFingerprint) return;
    try {
      this.data = readState(this.path);
      this.knownFingerprint = current;
    } catch (error) {
      // Keep serving from memory; the bad file is kept for inspection and replaced by the next write.
      const aside = moveAside(this.path, "corrupt");
      this.knownFingerprint = undefined;
      this.warn(
        `${(error as Error).message} Moved it to ${aside}; continuing with the state held in memory.`,
      );
      this.save();
    }
  }

  private prune(): void {
    const now = this.nowSeconds();
    for (const [hash, record] of Object.entries(this.data.accessTokens)) {
      if (record.expiresAt <= now || !this.data.clients[record.clientId]) delete this.data.accessTokens[hash];
    }
    for (const [hash, record] of Object.entries(this.data.refreshTokens)) {
      if (record.expiresAt <= now || !this.data.clients[record.clientId])
        delete this.data.refreshTokens[hash];
    }
  }

  private save(): void {
    writeFileAtomic(this.path, `${JSON.stringify(this.data, null, 2)}\n`);
    this.knownFingerprint = fileFingerprint(this.path);
  }

  read(): Readonly<OAuthStateData> {
    this.syncFromDisk();
    return this.data;
  }

  /** Applies a change and persists it before returning. */
  update<T>(change: (data: OAuthStateData) => T): T {
    this.syncFromDisk();
    const result = change(this.data);
    this.prune();
    this.save();
    return result;
  }

  getClient(clientId: string): ClientRecord | undefined {
    return this.read().clients[clientId];
  }

  /** Removes every token of one grant (an authorization and all refreshes that followed it). */
  static revokeFamily(data: OAuthStateData, familyId: string): void {
    for (const [hash, record] of Object.entries(data.accessTokens)) {
      if (record.familyId === familyId) delete data.accessTokens[hash];
    }
    for (const [hash, record] of Object.entries(data.refreshTokens)) {
      if (record.familyId === familyId) delete data.refreshTokens[hash];
    }
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
export function summarizeClients(data: OAuthStateData, nowSeconds: number): ClientSummary[] {
  return Object.entries(data.clients).map(([clientId, record]) => {
    const live = (r: TokenRecord) => r.clientId === clientId && r.expiresAt > nowSeconds;
    const access = Object.values(data.accessTokens).filter(live);
    const refresh = Object.values(data.refreshTokens).filter(live);
    const scopes = [...new Set([...access, ...refresh].flatMap((r) => r.scopes))].sort();
    return {
      clientId,
      clientName: record.info.client_name,
      redirectUris: record.info.redirect_uris,
      registeredAt: record.info.client_id_issued_at,
      approvedAt: record.approvedAt,
      scopes,
      activeAccessTokens: access.length,
      activeRefreshTokens: refresh.length,
    };
  });
}

/** Removes one client and all its tokens. Returns false when no such client is registered. */
export function revokeClient(stateDir: string, clientId: string): boolean {
  const store = new OAuthStateStore(stateDir, () => Math.floor(Date.now() / 1000));
  if (!store.read().clients[clientId]) return false;
  store.update((data) => {
    delete data.clients[clientId];
  });
  new AuditLog(auditLogPath(stateDir)).record({ kind: "token_revoked", clientId, reason: "client_revoked" });
  return true;
}

/**
 * Starts over with no clients or tokens. The old file (readable or corrupt) is moved aside, never deleted.
 * Returns where it went, or undefined when there was no file.
 */
export function resetOAuthState(stateDir: string): string | undefined {
  const path = oauthStatePath(stateDir);
  if (fileFingerprint(path) === undefined) return undefined;
  let label = "reset";
  try {
    loadOAuthState(stateDir);
  } catch {
    label = "corrupt";
  }
  return moveAside(path, label);
}
