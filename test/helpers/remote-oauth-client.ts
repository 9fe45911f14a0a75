// OAuth client side for the remote-mode tests: a loopback redirect receiver, and an SDK OAuthClientProvider
// whose redirectToAuthorization drives headless Chromium through the consent page. The plain-HTTP
// consent helpers (same form, no browser) are in remote-oauth-http.ts.
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname } from "node:path";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthTokens,
} from "@modelcontextprotocol/client";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) to run the browser test`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A tiny HTTP server on 127.0.0.1:0 standing in for the native client's loopback redirect URI. */
export class LoopbackRedirectReceiver {
  private server: Server | undefined;
  private waiters: ((params: URLSearchParams) => void)[] = [];
  private received: URLSearchParams[] = [];
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      // Browsers also ask for /favicon.ico; only the redirect itself counts.
      if (url.pathname !== "/callback") {
        res.writeHead(404).end();
        return;
      }
      const params = url.searchParams;
      res.writeHead(200, { "content-type": "text/plain" }).end("You can close this window.");
      const waiter = this.waiters.shift();
      if (waiter) waiter(params);
      else this.received.push(params);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  get redirectUrl(): string {
    return `http://127.0.0.1:${this.port}/callback`;
  }

  next(): Promise<URLSearchParams> {
    const ready = this.received.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

export interface ConsentChoice {
  password: string;
  access: "read" | "read_send";
  decision?: "approve" | "deny";
  screenshotPath?: string;
  expectClientName?: string;
  expectRedirectHost?: string;
}

/** In-memory OAuthClientProvider; the authorization step is done by a callback (browser or HTTP). */
export class TestOAuthClientProvider implements OAuthClientProvider {
  private info: OAuthClientInformationMixed | undefined;
  private savedTokens: OAuthTokens | undefined;
  private verifier = "";
  /** Settles when the consent step triggered by the last redirectToAuthorization has finished. */
  consentDone: Promise<void> = Promise.resolve();
  authorizationUrls: URL[] = [];

  constructor(
    private readonly redirect: string,
    private readonly approve: (authorizationUrl: URL) => Promise<void>,
    readonly clientName = "Remote E2E Test Client",
  ) {}

  get redirectUrl(): string {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(authorizationUrl: URL) {
    this.authorizationUrls.push(authorizationUrl);
    this.consentDone = this.approve(authorizationUrl);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Drives the consent page in Chromium: checks what it shows, enters the owner password, clicks a button. */
export async function consentInBrowser(
  browser: Browser,
  authorizationUrl: URL,
  choice: ConsentChoice,
): Promise<void> {
  const context = await browser.newContext();
  // Playwright's 30 s default is tight on a busy two-core machine (each step waits on the server).
  context.setDefaultTimeout(90_000);
  try {
    const page = await context.newPage();
    await page.goto(authorizationUrl.href);
    if (choice.expectClientName !== undefined) {
      const shown = await page.textContent("#client-name");
      if (shown !== choice.expectClientName) throw new Error(`consent page shows client "${shown}"`);
    }
    if (choice.expectRedirectHost !== undefined) {
      const shown = await page.textContent("#redirect-host");
      if (shown !== choice.expectRedirectHost) throw new Error(`consent page shows redirect host "${shown}"`);
    }
    await page.fill("#owner_password", choice.password);
    await page.check(`input[name=access][value=${choice.access}]`);
    if (choice.screenshotPath) {
      mkdirSync(dirname(choice.screenshotPath), { recursive: true });
      await page.screenshot({ path: choice.screenshotPath, fullPage: true });
    }
    await Promise.all([
      // Clients name their redirect path differently (/callback, Inspector's /oauth/callback), and some
      // callback pages never finish loading: arriving there is what counts.
      page.waitForURL((url) => url.pathname.endsWith("/callback"), { waitUntil: "commit" }),
      page.click(`button[value=${choice.decision ?? "approve"}]`),
    ]);
  } finally {
    await context.close();
  }
}
