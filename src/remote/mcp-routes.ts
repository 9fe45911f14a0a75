import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, type McpServer } from "@modelcontextprotocol/server";
import express, { type Express, type Request, type RequestHandler } from "express";
import { callerAuth, refuseScope, requireBearer } from "./bearer-auth.js";
import { jsonRpcError } from "./http-errors.js";
import type { Logger } from "./logger.js";
import type { OAuthProvider } from "./oauth-provider.js";
import { permissionsForScopes, SCOPE_SEND, type ScopePermission } from "./scopes.js";
import { SseServerTransport } from "./sse-transport.js";

// The MCP endpoints: Streamable HTTP at /mcp (SDK v2's handler) and the legacy HTTP+SSE transport at
// /sse + /messages, each behind the bearer check, with send tools refused to tokens without messages:send.

export type McpPath = "mcp" | "sse";

/** Who a server instance serves: the token's client and scopes, and the tool permissions they grant. */
export interface CallerPermissions {
  clientId: string;
  scopes: string[];
  permissions: ScopePermission[];
}

export interface McpRouteSettings {
  provider: OAuthProvider;
  logger: Logger;
  /** Origin check and CORS, run first on every MCP request. */
  originAndCors: RequestHandler;
  /** RFC 9728 metadata URL of each endpoint, named in its 401/403 challenges. */
  metadataUrlFor: (path: McpPath) => string;
  createMcpServer: (auth: CallerPermissions, context: { transport: "streamable-http" | "sse" }) => McpServer;
  sendToolNames: readonly string[];
  sseKeepAliveMs: number;
}

export interface MountedMcpRoutes {
  activeSseSessions(): number;
  close(): Promise<void>;
}

interface SseSession {
  transport: SseServerTransport;
  server: McpServer;
  clientId: string;
  close(): void;
}

/** The first `tools/call` in a JSON-RPC message or batch that targets a send tool, if any. */
function findSendToolCall(body: unknown, sendToolNames: readonly string[]): string | undefined {
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    if (typeof message !== "object" || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
    if (method === "tools/call" && typeof params?.name === "string" && sendToolNames.includes(params.name)) {
      return params.name;
    }
  }
  return undefined;
}

export function mountMcpRoutes(app: Express, settings: McpRouteSettings): MountedMcpRoutes {
  const { provider, logger, originAndCors } = settings;
  const authenticate = (path: McpPath) => requireBearer(provider, settings.metadataUrlFor(path), logger);
  const requireSendScopeForSendTools = (path: McpPath): RequestHandler => {
    const resourceMetadataUrl = settings.metadataUrlFor(path);
    return (req, res, next) => {
      const tool = findSendToolCall(req.body, settings.sendToolNames);
      if (tool !== undefined && !callerAuth(req)!.scopes.includes(SCOPE_SEND)) {
        logger.info(`[${res.locals.requestId}] refused ${tool}: token lacks ${SCOPE_SEND}`);
        return refuseScope(res, resourceMetadataUrl, `The ${tool} tool needs the ${SCOPE_SEND} scope`);
      }
      next();
    };
  };
  const jsonBody = express.json({ limit: "4mb" });
  const authOf = (req: Request): CallerPermissions => {
    const auth = callerAuth(req)!;
    return {
      clientId: auth.clientId,
      scopes: [...auth.scopes],
      permissions: permissionsForScopes(auth.scopes),
    };
  };

  // Streamable HTTP through the SDK's handler: one endpoint serves the 2026-07-28 revision and, statelessly,
  // 2025-era clients; either way a fresh server per POST, so nothing leaks between callers. The caller's
  // verified token reaches the factory as authInfo (toNodeHandler forwards req.auth).
  const mcpHandler = createMcpHandler(
    ({ authInfo: auth }) =>
      settings.createMcpServer(
        {
          clientId: auth?.clientId ?? "",
          scopes: [...(auth?.scopes ?? [])],
          permissions: permissionsForScopes(auth?.scopes ?? []),
        },
        { transport: "streamable-http" },
      ),
    { onerror: (error) => logger.debug(`MCP request failed: ${error.message}`) },
  );
  const serveMcp = toNodeHandler(mcpHandler, {
    onerror: (error) => logger.error(`MCP handler: ${error.message}`),
  });
  app.post(
    "/mcp",
    originAndCors,
    authenticate("mcp"),
    jsonBody,
    requireSendScopeForSendTools("mcp"),
    async (req, res) => {
      await serveMcp(req, res, req.body);
    },
  );
  app.options("/mcp", originAndCors);
  app.all("/mcp", originAndCors, authenticate("mcp"), (_req, res) => {
    res.setHeader("Allow", "POST, OPTIONS");
    jsonRpcError(res, 405, -32000, "Method not allowed: this server is stateless, use POST /mcp");
  });

  // Legacy HTTP+SSE transport (protocol 2024-11-05): GET /sse opens the stream, POST /messages?sessionId= feeds it.
  const sseSessions = new Map<string, SseSession>();
  app.options(["/sse", "/messages"], originAndCors);
  app.get("/sse", originAndCors, authenticate("sse"), async (req, res) => {
    const auth = authOf(req);
    const token = callerAuth(req)!.token;
    const transport = new SseServerTransport("/messages", res);
    const server = settings.createMcpServer(auth, { transport: "sse" });
    // A stream outlives the request that opened it: with every keep-alive its token is checked again, so
    // revocation (`auth revoke`, /revoke) and expiry end the stream too.
    const ping = setInterval(() => {
      try {
        provider.verifyAccessToken(token);
      } catch {
        logger.info(`[${res.locals.requestId}] SSE stream closed: its access token expired or was revoked`);
        session.close();
        return;
      }
      if (!res.writableEnded) res.write(": ping\n\n");
    }, settings.sseKeepAliveMs);
    ping.unref();
    const session: SseSession = {
      transport,
      server,
      clientId: auth.clientId,
      close: () => {
        clearInterval(ping);
        if (!sseSessions.delete(transport.sessionId)) return;
        void server.close();
        if (!res.writableEnded) res.end();
        logger.debug(`[${res.locals.requestId}] SSE session closed`);
      },
    };
    sseSessions.set(transport.sessionId, session);
    res.on("close", session.close);
    await server.connect(transport);
  });
  app.post("/sse", originAndCors, (_req, res) => {
    res.setHeader("Allow", "GET");
    jsonRpcError(
      res,
      405,
      -32000,
      "POST /sse is not supported: open GET /sse, or use Streamable HTTP at /mcp",
    );
  });
  app.post(
    "/messages",
    originAndCors,
    authenticate("sse"),
    jsonBody,
    requireSendScopeForSendTools("sse"),
    async (req, res) => {
      const sessionId = typeof req.query.sessionId === "string" ? req.query.sessionId : "";
      const session = sseSessions.get(sessionId);
      // A session belongs to the client that opened it; others get the same answer as for an unknown id.
      if (!session || session.clientId !== authOf(req).clientId) {
        return jsonRpcError(res, 404, -32001, "Unknown or closed SSE session; reconnect to /sse");
      }
      const refused = session.transport.receive(req.body, callerAuth(req)!);
      if (refused !== undefined) return jsonRpcError(res, 400, -32600, refused);
      res.status(202).end();
    },
  );

  return {
    activeSseSessions: () => sseSessions.size,
    async close() {
      for (const session of [...sseSessions.values()]) session.close();
      await mcpHandler.close();
    },
  };
}
