import type { NextFunction, Request, Response } from "express";
import type { Logger } from "./logger.js";

// Error answers shared by the MCP routes and the app's last-resort handlers: JSON, never an HTML page or
// a stack trace (Express' default error page includes one outside production).

export function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id: null });
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).json({ error: "not_found", error_description: "No such endpoint" });
}

export function lastResortErrorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const status = (error as { status?: number }).status ?? 500;
    if (status >= 500) logger.error(`[${res.locals.requestId}] ${(error as Error).message ?? String(error)}`);
    if (res.headersSent) return;
    if ((error as { type?: string }).type === "entity.parse.failed") {
      jsonRpcError(res, 400, -32700, "Parse error: request body is not valid JSON");
      return;
    }
    res.status(status).json({
      error: status >= 500 ? "server_error" : "invalid_request",
      error_description: status >= 500 ? "Internal server error" : (error as Error).message,
    });
  };
}
