// The official MCP conformance suite (pinned, on the Node 22 from the `node` npm package) against remote
// mode started from the CLI:
//  - `conformance authorization`: the authorization-server scenarios, with the issuer URL exactly as an
//    operator types it for --server-url, and the owner approving the suite's request in Chromium;
//  - `conformance server`: the server scenarios that apply to a server without the suite's reference
//    fixtures, through a loopback proxy that adds a bearer token (the runner cannot authenticate itself).
// Scenarios known to fail are skipped with the reason and the issue that fixes them — never dropped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { type RealClients, realClientsOrSkip } from "../helpers/real-clients.js";
import { getFreePort, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { consentInBrowser, launchChromium } from "../helpers/remote-oauth-client.js";
import { obtainTokens, registerClient } from "../helpers/remote-oauth-http.js";
import { type BearerProxy, startBearerProxy } from "./bearer-proxy.js";
import { buildRealClientFixture, type RealClientFixture } from "./fixture.js";
import { type RemoteCli, startRemoteCli } from "./our-server.js";

const { clients, skip } = realClientsOrSkip();
const RUN_TIMEOUT_MS = 180_000;

/**
 * Server scenarios that need no reference fixture from the suite, at both wire versions /mcp serves. The
 * others call the suite's own tools, prompts and resources (test_simple_text, test_error_handling,
 * test://static-text, test_prompt_with_arguments …) or need sampling/elicitation from a tool, so they say
 * nothing about this server and are not run. Within server-stateless, the checks listed in `fixtureChecks`
 * likewise need the suite's diagnostic tools (the suite itself reports them "Not testable"); every other
 * check of that scenario must pass.
 */
const SERVER_SCENARIOS: { scenario: string; wire: string; fixtureChecks?: string[] }[] = [
  ...[
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
  ].map((scenario) => ({ scenario, wire: "2025-11-25" })),
  {
    scenario: "server-stateless",
    wire: "2026-07-28",
    fixtureChecks: [
      "sep-2575-server-rejects-undeclared-capability",
      "sep-2575-missing-capability-http-400",
      "sep-2575-http-server-no-independent-requests-on-stream",
      "sep-2575-server-no-log-without-loglevel",
    ],
  },
  ...[
    "tools-list",
    "resources-list",
    "prompts-list",
    "sep-2164-resource-not-found",
    "dns-rebinding-protection",
    "caching",
    "http-header-validation",
  ].map((scenario) => ({ scenario, wire: "2026-07-28" })),
];

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
}

interface ConformanceRun {
  code: number | null;
  output: string;
  /** checks.json of each scenario that ran, by scenario name. */
  checks: Map<string, Check[]>;
}

/** Runs the suite with `args`; `onLine` sees each stdout line (to react to "open this URL"). */
async function runConformance(
  suite: RealClients,
  args: string[],
  onLine: (line: string) => void = () => {},
): Promise<ConformanceRun> {
  const outDir = mkdtempSync(join(tmpdir(), "conformance-"));
  try {
    const child = spawn(suite.node22, [suite.conformance, ...args, "--output-dir", outDir], {
      cwd: outDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: outDir, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let pending = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(killer);
    const checks = new Map<string, Check[]>();
    for (const entry of readdirSync(outDir)) {
      // <mode>-<scenario>-<ISO time>, e.g. server-tools-list-2026-12-02T17-58-55-995Z
      const scenario = entry
        .replace(/^(server|authorization-server)-/, "")
        .replace(/-\d{4}-\d\d-\d\dT.*$/, "");
      checks.set(scenario, JSON.parse(readFileSync(join(outDir, entry, "checks.json"), "utf8")) as Check[]);
    }
    return { code, output, checks };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Every check of `scenario` passed (at least one real SUCCESS; warnings and infos are allowed), except the
 * `fixtureChecks` that need the suite's own diagnostic tools — those must fail only as "Not testable".
 */
function assertScenarioPassed(run: ConformanceRun, scenario: string, fixtureChecks: string[] = []): void {
  const checks = run.checks.get(scenario);
  assert.ok(checks, `no results for ${scenario}:\n${run.output.slice(-3000)}`);
  const notTestable = (check: Check) =>
    fixtureChecks.includes(check.id) && (check.errorMessage ?? "").startsWith("Not testable");
  const failed = checks.filter((check) => check.status === "FAILURE" && !notTestable(check));
  assert.deepEqual(
    failed.map((check) => `${check.id}: ${check.errorMessage ?? ""}`),
    [],
    `${scenario} failed`,
  );
  assert.ok(
    checks.some((check) => check.status === "SUCCESS"),
    `${scenario} checked nothing: ${JSON.stringify(checks)}`,
  );
}

describe("conformance suite: server scenarios over remote /mcp", {
  skip,
  timeout: RUN_TIMEOUT_MS * 8,
}, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let proxy: BearerProxy;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    proxy = await startBearerProxy(remote.serverUrl, (await obtainTokens(remote.serverUrl)).access_token);
  });
  after(async () => {
    await proxy?.close();
    await remote?.close();
    fixture?.cleanup();
  });

  for (const { scenario, wire, fixtureChecks } of SERVER_SCENARIOS) {
    test(`${scenario} (${wire} wire)`, {
      timeout: RUN_TIMEOUT_MS + 30_000,
    }, async () => {
      const run = await runConformance(clients!, [
        "server",
        "--url",
        `${proxy.url}/mcp`,
        "--scenario",
        scenario,
        "--spec-version",
        wire,
        // Per scenario; the default 30 s is tight for a busy two-core machine.
        "--timeout",
        "120000",
      ]);
      assertScenarioPassed(run, scenario, fixtureChecks);
    });
  }
});

describe("conformance suite: authorization-server scenarios", { skip, timeout: RUN_TIMEOUT_MS * 2 }, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let browser: Browser;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await remote?.close();
    fixture?.cleanup();
  });

  test("authorization-server-metadata-endpoint and authorization-code-grant, issuer as typed", {
    timeout: RUN_TIMEOUT_MS + 60_000,
  }, async () => {
    // The suite listens for the redirect on 127.0.0.1:<port>/callback; register that for its client.
    const port = await getFreePort();
    const clientId = await registerClient(remote.serverUrl, {
      redirectUris: [`http://127.0.0.1:${port}/callback`],
      clientName: "MCP conformance suite",
    });
    let consent: Promise<void> | undefined;
    const run = await runConformance(
      clients!,
      [
        "authorization",
        "--url",
        remote.serverUrl,
        "--client-id",
        clientId,
        "--resource",
        remote.mcpUrl,
        "--port",
        String(port),
      ],
      (line) => {
        // "Access the following URL in your browser …": the owner approves it in Chromium.
        if (consent === undefined && line.startsWith(`${remote.serverUrl}/authorize?`)) {
          consent = consentInBrowser(browser, new URL(line.trim()), {
            password: OWNER_PASSWORD,
            access: "read",
            expectClientName: "MCP conformance suite",
          });
          // Awaited after the run; until then a failure must not count as unhandled.
          consent.catch(() => {});
        }
      },
    );
    await consent;
    assertScenarioPassed(run, "authorization-server-metadata-endpoint");
    assertScenarioPassed(run, "authorization-code-grant");
    assert.ok(consent, `the suite never asked for consent:\n${run.output.slice(-3000)}`);
  });
});
