import type { Command } from "commander";
import type { RemoteServerOptions, RunningRemoteServer } from "../remote/index.js";
import { CliUsageError, loadRemote, runCliAction } from "./auth.js";

/** Opens the stores remote mode serves; everything they keep lives in `stateDir`, beside the OAuth state. */
export type RemoteServerFactory = (context: { stateDir: string }) => Promise<{
  createMcpServer: RemoteServerOptions["createMcpServer"];
  sendToolNames: readonly string[];
  close(): void | Promise<void>;
}>;

function parseInteger(value: string, name: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new CliUsageError(`${name} must be a whole number between ${min} and ${max}, got "${value}"`);
  }
  return parsed;
}

export function registerRemoteCommand(program: Command, makeServerFactory: RemoteServerFactory): void {
  program
    .command("remote")
    .description("Serve MCP over HTTP (Streamable HTTP at /mcp, legacy SSE at /sse) with built-in OAuth 2.1")
    .requiredOption("--server-url <url>", "public HTTPS base URL clients use, e.g. https://mcp.example.com")
    .option("--port <port>", "port to listen on", "8000")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--state-dir <dir>", "state directory (default: $MAC_MESSAGES_MCP_HOME or ~/.mac-messages-mcp)")
    .option("--token-ttl <seconds>", "access token lifetime in seconds", "86400")
    .option("--log-level <level>", "debug, info, warn or error", "info")
    .option(
      "--trust-proxy <addresses>",
      "comma-separated reverse-proxy addresses/CIDR ranges whose X-Forwarded-For is believed (loopback always is); " +
        "needed when Caddy reaches this Mac directly or over WireGuard",
    )
    .action(
      runCliAction(
        async (opts: {
          serverUrl: string;
          port: string;
          host: string;
          stateDir?: string;
          tokenTtl: string;
          logLevel: string;
          trustProxy?: string;
        }) => {
          const port = parseInteger(opts.port, "--port", 0, 65535);
          const accessTokenTtlSeconds = parseInteger(opts.tokenTtl, "--token-ttl", 60, 365 * 86_400);
          const logLevel = opts.logLevel as NonNullable<RemoteServerOptions["logLevel"]>;
          if (!["debug", "info", "warn", "error"].includes(logLevel)) {
            throw new CliUsageError(`--log-level must be debug, info, warn or error, got "${opts.logLevel}"`);
          }
          const { assertRemoteReady, defaultStateDir, startRemoteServer } = await loadRemote();
          const stateDir = opts.stateDir ?? defaultStateDir();
          // Fail on setup problems (no owner password, bad URL, corrupt state) before touching Messages data.
          assertRemoteReady({ serverUrl: opts.serverUrl, stateDir, port });
          const factory = await makeServerFactory({ stateDir });
          let running: RunningRemoteServer;
          try {
            running = await startRemoteServer({
              serverUrl: opts.serverUrl,
              host: opts.host,
              port,
              stateDir,
              createMcpServer: factory.createMcpServer,
              sendToolNames: factory.sendToolNames,
              accessTokenTtlSeconds,
              logLevel,
              trustedProxies: opts.trustProxy?.split(",") ?? [],
            });
          } catch (error) {
            await factory.close();
            throw error;
          }
          const shutdown = async () => {
            await running.close();
            await factory.close();
            process.exit(0);
          };
          process.once("SIGINT", () => void shutdown());
          process.once("SIGTERM", () => void shutdown());
        },
      ),
    );
}
