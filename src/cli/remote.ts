import type { Command } from "commander";
import type { RemoteServerOptions, RunningRemoteServer } from "../remote/index.js";
import { CliUsageError, loadRemote, runCliAction } from "./auth.js";

/** Opens the stores remote mode serves; everything they keep lives in `stateDir`, beside the OAuth state. */
export type RemoteServerFactory = (context: { stateDir: string }) => Promise<{
  createMcpServer: RemoteServerOptions["createMcpServer"];
  sendToolNames: readonly string[];
  /**
   * Refuses new sends and waits for those in flight to finish and be audited (or records them as
   * interrupted past the osascript timeout); resolves with how many were recorded that way.
   */
  drainSends(): Promise<number>;
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
    .option(
      "--no-client-metadata-documents",
      "do not accept https URL client_ids (Client ID Metadata Documents): never fetch a client's metadata; " +
        "clients register instead. For a Mac without internet access (Claude Code's document is at claude.ai)",
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
          clientMetadataDocuments: boolean;
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
          const trustedProxies = opts.trustProxy?.split(",") ?? [];
          assertRemoteReady({ serverUrl: opts.serverUrl, stateDir, port, trustedProxies });
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
              trustedProxies,
              clientMetadataDocuments: opts.clientMetadataDocuments,
            });
          } catch (error) {
            await factory.close();
            throw error;
          }
          let stopping = false;
          const shutdown = async (signal: NodeJS.Signals) => {
            if (stopping) return;
            stopping = true;
            process.stderr.write(
              `mac-messages-mcp: ${signal}: stopping (a send in flight is let finish first; new sends are refused)\n`,
            );
            let exitCode = 0;
            try {
              // First the sends: one already handed to osascript may be delivering right now, so it is let
              // finish and audited while the HTTP server still stands (its client then gets the answer too);
              // sends asked for meanwhile are refused. Then the connections close, then the stores.
              await factory.drainSends();
              await running.close();
              await factory.close();
            } catch (error) {
              exitCode = 1;
              process.stderr.write(
                `mac-messages-mcp: error while stopping: ${error instanceof Error ? error.message : String(error)}\n`,
              );
            } finally {
              process.exit(exitCode);
            }
          };
          process.once("SIGINT", () => void shutdown("SIGINT"));
          process.once("SIGTERM", () => void shutdown("SIGTERM"));
        },
      ),
    );
}
