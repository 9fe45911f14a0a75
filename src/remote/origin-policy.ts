import type { RequestHandler } from "express";
import { LOOPBACK_HOSTNAMES } from "./client-registration.js";
import { jsonRpcError } from "./http-errors.js";
import type { Logger } from "./logger.js";

// Origin validation for the MCP endpoints (the DNS-rebinding defence the MCP spec requires) and CORS for
// browser clients such as MCP Inspector. Hand-written rather than the `cors` package: the allow-list is
// ours and the rules are few.

function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK_HOSTNAMES.has(url.hostname);
}

/**
 * Requests without an Origin (every non-browser client) pass; a browser origin must be the server's own,
 * a loopback one, or listed in `allowedOrigins`.
 */
export function originAndCors(options: {
  origin: string;
  allowedOrigins: readonly string[];
  logger: Logger;
}): RequestHandler {
  const allowed = (value: string) =>
    value === options.origin || isLoopbackOrigin(value) || options.allowedOrigins.includes(value);
  return (req, res, next) => {
    const requestOrigin = req.headers.origin;
    if (requestOrigin === undefined) return next();
    if (!allowed(requestOrigin)) {
      options.logger.warn(`[${res.locals.requestId}] refused Origin ${requestOrigin}`);
      return jsonRpcError(res, 403, -32000, `Origin ${requestOrigin} is not allowed`);
    }
    res.setHeader("Access-Control-Allow-Origin", requestOrigin);
    res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate");
    if (req.method === "OPTIONS") {
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.setHeader(
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID",
      );
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}
