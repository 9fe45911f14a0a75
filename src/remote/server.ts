import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import type { McpServer } from "@modelcontextprotocol/server";
import express, { type Express } from "express";
import { AuditLog, auditLogPath } from "../audit/index.js";
import { ensurePrivateDir } from "../util/secure-file.js";
import { authorizationServerRouter } from "./authorization-server.js";
import { callerAuth } from "./bearer-auth.js";
import { ClientMetadataFetcher, type ClientMetadataFetchOptions } from "./client-id-metadata.js";
import { LOOPBACK_HOSTNAMES } from "./client-registration.js";
import { ConsentGuard, consentUnlockPath } from "./consent-guard.js";
import { consentRouter } from "./consent-page.js";
import { RemoteSetupError } from "./errors.js";
import { lastResortErrorHandler, notFound } from "./http-errors.js";
import { createLogger, type LogLevel } from "./logger.js";
import { type CallerPermissions, type McpPath, mountMcpRoutes } from "./mcp-routes.js";
import { normalizeResource, OAuthProvider } from "./oauth-provider.js";
import { OAuthStore } from "./oauth-store.js";
import { originAndCors } from "./origin-policy.js";
import { loadOwnerPassword, ownerPasswordPath } from "./owner-password.js";
import { SUPPORTED_SCOPES } from "./scopes.js";

export interface RemoteServerOptions {
  /** Public base URL, e.g. https://mcp.example.com (https, or http only for localhost). All URLs derive from it. */
  serverUrl: string;
  /** Interface to listen on; default 127.0.0.1 (a reverse proxy such as Caddy terminates TLS). */
  host?: string;
  /** 0 = ephemeral (tests). */
  port: number;
  /** Holds oauth_state.db, owner_password.json and audit.log (created 0700). */
  stateDir: string;
  /**
   * A fresh McpServer for one MCP session/request; `auth` tells which scopes the caller holds and the tool
   * permissions they grant (register only those tools: a read-only token then does not even list send
   * tools), `context` which transport it serves (a stateless Streamable HTTP server lives for one request).
   */
  createMcpServer: (auth: CallerPermissions, context: { transport: "streamable-http" | "sse" }) => McpServer;
  /** Tool names that need the messages:send scope (refused with 403 insufficient_scope otherwise). */
  sendToolNames: readonly string[];
  /** Default 86400 (24 h). */
  accessTokenTtlSeconds?: number;
  /** Default 30 days; every refresh rotates the refresh token and restarts this period. */
  refreshTokenTtlSeconds?: number;
  /** How long a rotated refresh token keeps working (parallel sessions sharing it). Default 120. */
  refreshReuseGraceSeconds?: number;
  logLevel?: LogLevel;
  /** Where log lines go; default stderr. */
  logWriter?: (line: string) => void;
  /** Browser origins allowed to call /mcp besides the server's own origin and loopback origins. */
  allowedOrigins?: readonly string[];
  /**
   * Reverse proxies whose X-Forwarded-For names the real client (addresses or CIDR ranges), besides
   * loopback (Caddy on this machine, or the SSH tunnel). Per-address limits use the address they name;
   * from anyone else the header is ignored. `--trust-proxy` on the command line.
   */
  trustedProxies?: readonly string[];
  /** Time a client has to send a whole request, headers and body; default 30 s (slow-trickle defence). */
  requestTimeoutMs?: number;
  /** Open connections at most (each holds a file descriptor); further ones are refused. Default 1024. */
  maxConnections?: number;
  /** Interval of SSE keep-alive comments on /sse streams (and of re-checking their token); default 25 s. */
  sseKeepAliveMs?: number;
  /** Clock in milliseconds, replaceable so tests can move past expiry times without waiting. */
  nowMs?: () => number;
  /**
   * How Client ID Metadata Documents are fetched. Production uses the defaults (public https addresses only,
   * 5 KB, 5 s); tests set a CA and a resolver to serve documents from this machine. No CLI flag sets it.
   */
  clientMetadataFetch?: ClientMetadataFetchOptions;
  /**
   * Accept https URL client_ids (Client ID Metadata Documents, fetched from the client's site); default true.
   * Off (`--no-client-metadata-documents`), the server never fetches anything on a client's behalf and
   * clients register instead: for a Mac that cannot reach the internet, where e.g. Claude Code's document at
   * claude.ai could not be fetched and its login would fail.
   */
  clientMetadataDocuments?: boolean;
  /** Audit trail of client registrations, grants, refreshes, revocations and denials; default `<stateDir>/audit.log`. */
  audit?: AuditLog;
}

export interface RunningRemoteServer {
  /** Actual listen URL (http://host:port), which differs from serverUrl behind a proxy. */
  url: string;
  close(): Promise<void>;
}

/** How long close() lets requests being answered finish before it cuts their connections. */
const CLOSE_GRACE_MS = 5_000;

/** Validates --server-url: an origin only (no path), https unless it points at this machine. */
function parseServerUrl(value: string): URL {
  if (!URL.canParse(value)) throw new RemoteSetupError(`--server-url is not a valid URL: ${value}`);
  const url = new URL(value);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTNAMES.has(url.hostname))) {
    throw new RemoteSetupError(
      `--server-url must use https (plain http is only allowed for localhost/127.0.0.1/[::1]): ${value}`,
    );
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw new RemoteSetupError(
      `--server-url must be just the public origin, like https://mcp.example.com (no path, query or credentials): ${value}`,
    );
  }
  return url;
}

/** Express' trust-proxy list: loopback always, plus the given addresses; a malformed one is a setup error. */
function trustProxySetting(addresses: readonly string[]): string[] {
  const list = addresses.map((a) => a.trim()).filter((a) => a.length > 0);
  const valid = (entry: string) => {
    const [ip, prefix, ...rest] = entry.split("/");
    const family = isIP(ip ?? "");
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    const bits = Number(prefix);
    return /^\d+$/.test(prefix) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
  };
  if (!list.every(valid)) {
    throw new RemoteSetupError(
      `--trust-proxy must be IP addresses or CIDR ranges (like 10.8.0.1 or 10.8.0.0/24), got: ${addresses.join(", ")}`,
    );
  }
  return ["loopback", ...list];
}

/**
 * Checks everything remote mode needs before anything else starts (the CLI calls it before opening
 * the Messages database): a valid server URL and proxy list, an owner password, a readable state file.
 */
export function assertRemoteReady(options: {
  serverUrl: string;
  stateDir: string;
  port?: number;
  trustedProxies?: readonly string[];
}) {
  const baseUrl = parseServerUrl(options.serverUrl);
  trustProxySetting(options.trustedProxies ?? []);
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new RemoteSetupError(`--port must be an integer between 0 and 65535, got ${options.port}`);
  }
  ensurePrivateDir(options.stateDir);
  const ownerPassword = loadOwnerPassword(options.stateDir);
  if (!ownerPassword) {
    throw new RemoteSetupError(
      `No owner password is set (${ownerPasswordPath(options.stateDir)}), so nobody could approve clients. ` +
        "Set one first with: mac-messages-mcp auth set-password",
    );
  }
  // Opening it checks it (and imports a legacy oauth_state.json once); the server opens its own handle.
  OAuthStore.open(options.stateDir).close();
  return { baseUrl, ownerPassword };
}

/** Starts listening; a busy or forbidden port becomes a setup error that says what to do. */
async function listen(
  app: Express,
  options: { host: string; port: number; requestTimeoutMs: number; maxConnections: number },
): Promise<HttpServer> {
  return await new Promise((resolve, reject) => {
    // Slow clients cannot hold sockets open forever: a request (headers and body) must arrive within
    // requestTimeoutMs, and idle keep-alive connections close. Streams being answered (SSE) are not affected.
    const requestTimeout = options.requestTimeoutMs;
    const server = createHttpServer(
      {
        requestTimeout,
        headersTimeout: Math.min(requestTimeout, 20_000),
        keepAliveTimeout: 5_000,
        connectionsCheckingInterval: Math.min(1_000, requestTimeout),
      },
      app,
    );
    server.maxConnections = options.maxConnections;
    server.listen(options.port, options.host);
    server.once("listening", () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new RemoteSetupError(
            `Port ${options.port} on ${options.host} is already in use. Stop the other process or pick --port.`,
          ),
        );
      } else if (error.code === "EACCES" || error.code === "EADDRNOTAVAIL") {
        reject(new RemoteSetupError(`Cannot listen on ${options.host}:${options.port} (${error.code}).`));
      } else {
        reject(error);
      }
    });
  });
}

export async function startRemoteServer(options: RemoteServerOptions): Promise<RunningRemoteServer> {
  const { baseUrl } = assertRemoteReady(options);
  const origin = baseUrl.origin;
  const host = options.host ?? "127.0.0.1";
  const nowMs = options.nowMs ?? Date.now;
  const logger = createLogger(options.logLevel ?? "info", options.logWriter);
  // Checked by assertRemoteReady; loaded again to report later changes of the file to this server's log.
  const ownerPassword = loadOwnerPassword(options.stateDir, (m) => logger.error(m))!;
  const audit =
    options.audit ?? new AuditLog(auditLogPath(options.stateDir), { onError: (m) => logger.error(m) });
  const store = OAuthStore.open(options.stateDir, () => Math.floor(nowMs() / 1000));

  const resourceFor = (path: McpPath | "") => normalizeResource(new URL(path, baseUrl).href)!;
  // The base URL comes first: it is what tokens are bound to when a client names no resource.
  const acceptedResources = [resourceFor(""), resourceFor("mcp"), resourceFor("sse")];
  const metadataUrlFor = (path: McpPath) =>
    new URL(`/.well-known/oauth-protected-resource/${path}`, baseUrl).href;
  const secureCookies = baseUrl.protocol === "https:";

  const provider = new OAuthProvider({
    store,
    acceptedResources,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 86_400,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 86_400,
    refreshReuseGraceSeconds: options.refreshReuseGraceSeconds ?? 120,
    authorizationCodeTtlSeconds: 60,
    consentTtlSeconds: 600,
    maxPendingConsents: 1000,
    maxPendingConsentsPerClient: 5,
    nowMs,
    logger,
    audit,
  });

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", trustProxySetting(options.trustedProxies ?? []));

  // While close() waits for answers still being written, each connection is closed as soon as its answer
  // is complete; keep-alive would otherwise hold it open until the client drops it (undici: 4 s).
  let closing = false;
  app.use((_req, res, next) => {
    if (closing) res.setHeader("Connection", "close");
    res.once("finish", () => {
      if (closing) setImmediate(() => httpServer.closeIdleConnections());
    });
    next();
  });

  // Request id + one access-log line per request. Only the path is logged: queries can carry session ids.
  app.use((req, res, next) => {
    const requestId = randomBytes(6).toString("hex");
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    const started = nowMs();
    res.on("finish", () => {
      const auth = callerAuth(req);
      const who = auth ? ` client=${auth.clientId}` : "";
      logger.info(
        `[${requestId}] ${req.method} ${req.originalUrl.split("?")[0]} ${res.statusCode} ${nowMs() - started}ms${who}`,
      );
    });
    next();
  });

  app.get("/health", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({
      status: "ok",
      service: "mac-messages-mcp",
      mode: "remote",
      serverUrl: origin,
      transports: { streamableHttp: "/mcp", sse: "/sse" },
      activeSseSessions: mcp.activeSseSessions(),
    });
  });

  app.use(
    authorizationServerRouter({
      provider,
      issuer: origin,
      registration: { maxApprovedClients: 500, maxPendingClients: 200, pendingClientTtlSeconds: 3600 },
      clientMetadata:
        options.clientMetadataDocuments === false
          ? null
          : new ClientMetadataFetcher({ nowMs, ...options.clientMetadataFetch }),
      secureCookies,
      logger,
      audit,
      nowMs,
    }),
  );
  // RFC 9728 protected-resource metadata, one document per MCP endpoint.
  for (const path of ["", "mcp", "sse"] as const) {
    app.get(`/.well-known/oauth-protected-resource${path ? `/${path}` : ""}`, (_req, res) => {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Cache-Control", "public, max-age=3600");
      res.json({
        resource: resourceFor(path),
        authorization_servers: [origin],
        scopes_supported: [...SUPPORTED_SCOPES],
        bearer_methods_supported: ["header"],
        resource_name: "Mac Messages MCP",
      });
    });
  }
  app.use("/.well-known", (_req, res) => {
    res.status(404).json({ error: "not_found", error_description: "Unknown well-known resource" });
  });

  app.use(
    consentRouter({
      provider,
      issuer: origin,
      verifyOwnerPassword: (candidate) => ownerPassword.verify(candidate),
      secureCookies,
      nowMs,
      logger,
      audit,
      guard: new ConsentGuard({
        perSourceMax: 10,
        globalMax: 50,
        windowMs: 15 * 60 * 1000,
        nowMs,
        unlockFile: consentUnlockPath(options.stateDir),
      }),
    }),
  );

  // --- MCP endpoints -------------------------------------------------------------------------------
  const mcp = mountMcpRoutes(app, {
    provider,
    logger,
    originAndCors: originAndCors({ origin, allowedOrigins: options.allowedOrigins ?? [], logger }),
    metadataUrlFor,
    createMcpServer: options.createMcpServer,
    sendToolNames: options.sendToolNames,
    sseKeepAliveMs: options.sseKeepAliveMs ?? 25_000,
  });

  app.use(notFound);
  app.use(lastResortErrorHandler(logger));

  const httpServer = await listen(app, {
    host,
    port: options.port,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxConnections: options.maxConnections ?? 1024,
  });
  const address = httpServer.address() as AddressInfo;
  const listenHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${listenHost}:${address.port}`;
  logger.info(`remote MCP server listening on ${url}; public URL ${origin} (MCP at /mcp and /sse)`);
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
    logger.warn(
      `listening on ${host}, not only this machine: make sure only your reverse proxy can reach it`,
    );
  }

  return {
    url,
    async close() {
      if (closing) return;
      closing = true;
      await mcp.close();
      await new Promise<void>((resolve) => {
        // Nothing new is accepted and idle keep-alive connections close now; a request still being answered
        // (a tool call whose send just finished during the shutdown drain) gets a moment to deliver its answer,
        // and whatever is still open after that is cut, so a stop never hangs on a client.
        const cut = setTimeout(() => httpServer.closeAllConnections(), CLOSE_GRACE_MS);
        httpServer.close(() => {
          clearTimeout(cut);
          resolve();
        });
        httpServer.closeIdleConnections();
      });
      store.close();
    },
  };
}
