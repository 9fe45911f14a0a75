// Client ID Metadata Documents (issue #14 item 10): a client uses the https URL of its metadata document as
// its client_id, and the server fetches that document. A real https server on this machine (a self-signed
// certificate made by openssl) serves the documents; the remote server is told, through its test-only fetch
// options, to trust that certificate, to resolve `client.test` to 127.0.0.1 and to allow loopback. The
// production policy (no such options) is checked to refuse loopback and private addresses, including this
// very server. oauth4webapi, a strict OAuth client library, drives the whole flow with the URL client_id.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as oauth from "oauth4webapi";
import { ClientMetadataFetcher, isPublicAddress } from "../../src/remote/client-id-metadata.js";
import {
  makeStateDir,
  OWNER_PASSWORD,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  openConsentPage,
  pkcePair,
  postToken,
  submitConsent,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";
import { mcpHeaders } from "../helpers/security-remote.js";

const insecure = { [oauth.allowInsecureRequests]: true } as const;
/** The test's stand-in for a client's website; resolved to 127.0.0.1 only through the test seam. */
const SITE_HOST = "client.test";

let certDir: string;
let cert: string;
let site: Server;
let sitePort: number;
let siteBase: string;
let state: Awaited<ReturnType<typeof makeStateDir>>;
let remote: TestRemote;
const hits = new Map<string, number>();
/** What /changing.json currently says its name is; the test edits it to watch the cache. */
let changingName = "First Name";
let failing = false;

function documentFor(path: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    client_id: `${siteBase}${path}`,
    client_name: "CIMD Test App",
    redirect_uris: [TEST_REDIRECT],
    token_endpoint_auth_method: "none",
    ...extra,
  });
}

before(async () => {
  certDir = mkdtempSync(join(tmpdir(), "cimd-cert-"));
  const made = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(certDir, "key.pem"),
      "-out",
      join(certDir, "cert.pem"),
      "-days",
      "2",
      "-subj",
      `/CN=${SITE_HOST}`,
      "-addext",
      `subjectAltName=DNS:${SITE_HOST},DNS:localhost,IP:127.0.0.1`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(made.status, 0, `openssl could not make the test certificate:\n${made.stderr}`);
  cert = readFileSync(join(certDir, "cert.pem"), "utf8");

  site = createHttpsServer({ cert, key: readFileSync(join(certDir, "key.pem")) }, (req, res) => {
    const path = req.url ?? "/";
    // /many.json?n=…: a valid document for every query, to fill the cache with distinct clients.
    if (path.startsWith("/many.json?")) {
      hits.set(path, (hits.get(path) ?? 0) + 1);
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(documentFor(path));
    }
    if (path.startsWith("/slow.json?")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.write("{");
    }
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { "content-type": "application/json", ...headers });
      res.end(body);
    };
    switch (path) {
      case "/good.json":
        return json(documentFor(path));
      case "/changing.json":
        if (failing) {
          res.writeHead(502);
          return res.end();
        }
        return json(documentFor(path, { client_name: changingName }), { "cache-control": "max-age=60" });
      case "/oversize.json":
        return json(documentFor(path, { padding: "x".repeat(6 * 1024) }));
      case "/oversize-chunked.json": {
        // No Content-Length: the limit must hold while the body streams in.
        res.writeHead(200, { "content-type": "application/json" });
        for (let i = 0; i < 12; i++) res.write(" ".repeat(512));
        return res.end(documentFor(path));
      }
      case "/slow.json":
        // Sends the headers, then never the body.
        res.writeHead(200, { "content-type": "application/json" });
        return res.write("{");
      case "/redirect.json":
        res.writeHead(302, { location: `${siteBase}/good.json` });
        return res.end();
      case "/mismatch.json":
        return json(documentFor(path, { client_id: `${siteBase}/good.json` }));
      case "/secret-client.json":
        return json(documentFor(path, { token_endpoint_auth_method: "private_key_jwt" }));
      case "/not-json.json":
        return json("<html>not json</html>");
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  sitePort = (site.address() as AddressInfo).port;
  siteBase = `https://${SITE_HOST}:${sitePort}`;

  state = await makeStateDir();
  remote = await startTestRemote(state.dir, {
    clientMetadataFetch: {
      ca: cert,
      // 4 s, not less: a real fetch must never time out on a busy machine; the slow document never answers.
      // Only client.test is known: a fetch that looked the name up again (instead of connecting to the
      // checked address) would fail to resolve it.
      lookup: async (hostname) => (hostname === SITE_HOST ? ["127.0.0.1"] : []),
      allowLoopback: true,
      timeoutMs: 4_000,
    },
  });
});

after(async () => {
  await remote?.close();
  site?.closeAllConnections();
  await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
  state?.cleanup();
  rmSync(certDir, { recursive: true, force: true });
});

function authorizeUrlFor(clientId: string, challenge: string, state = "s1"): string {
  const url = new URL(`${remote.serverUrl}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: TEST_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "messages:read messages:send",
    state,
  }).toString();
  return url.href;
}

/** GET /authorize for a document URL; a refusal is a page (never a redirect), its sentence returned. */
async function refusal(clientId: string): Promise<{ status: number; text: string }> {
  const res = await fetch(authorizeUrlFor(clientId, pkcePair().challenge), { redirect: "manual" });
  const html = await res.text();
  assert.equal(res.headers.get("location"), null, "a refusal never redirects");
  const text = html
    .match(/<p class="error">([^<]*)<\/p>/)?.[1]
    ?.replace(/&#(\d+);/g, (_m, c) => String.fromCharCode(Number(c)));
  return { status: res.status, text: text ?? html };
}

describe("Client ID Metadata Documents", () => {
  test("the authorization server metadata advertises them", async () => {
    const metadata = (await (
      await fetch(`${remote.serverUrl}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, true);
  });

  test("oauth4webapi with a URL client_id: consent names the site, code → token → /mcp → refresh", async () => {
    const issuer = new URL(remote.serverUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
    assert.equal(as.client_id_metadata_document_supported, true);
    // No registration: the client_id is the document's URL.
    const client: oauth.Client = { client_id: `${siteBase}/good.json`, token_endpoint_auth_method: "none" };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = authorizeUrlFor(client.client_id, await oauth.calculatePKCECodeChallenge(verifier), state);

    const page = await openConsentPage(url);
    assert.equal(page.status, 200, page.html.slice(0, 300));
    assert.match(page.html, /<strong id="client-name">CIMD Test App<\/strong>/);
    assert.match(
      page.html,
      new RegExp(`Published by the website <strong id="client-host">${SITE_HOST}:${sitePort}</strong>`),
    );
    const approved = await submitConsent(remote.serverUrl, page, {
      password: OWNER_PASSWORD,
      access: "read_send",
      decision: "approve",
    });
    assert.equal(approved.status, 302);
    const params = oauth.validateAuthResponse(as, client, new URL(approved.headers.get("location")!), state);

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        TEST_REDIRECT,
        verifier,
        insecure,
      ),
    );
    assert.deepEqual(tokens.scope?.split(" ").sort(), ["messages:read", "messages:send"]);
    const mcp = await fetch(`${remote.serverUrl}/mcp`, {
      method: "POST",
      headers: mcpHeaders(tokens.access_token),
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    assert.equal(mcp.status, 200);
    await mcp.text();

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    );
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.ok(
      remote.logs.some((line) =>
        line.includes(`client ${client.client_id} identified by its metadata document`),
      ),
    );
  });

  test("a redirect_uri the document does not list is refused on a page", async () => {
    const url = new URL(authorizeUrlFor(`${siteBase}/good.json`, pkcePair().challenge));
    url.searchParams.set("redirect_uri", "https://attacker.example/callback");
    const res = await fetch(url, { redirect: "manual" });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("location"), null);
    assert.match(await res.text(), /The redirect_uri is not one this client registered/);
  });

  test("documents that are too big, too slow, redirected, mismatched or not public clients are refused", async () => {
    const cases: [string, RegExp][] = [
      ["/oversize.json", /is larger than 5120 bytes/],
      ["/oversize-chunked.json", /is larger than 5120 bytes/],
      ["/redirect.json", /answered with a redirect \(302\); redirects are not followed/],
      ["/mismatch.json", /names a different client_id; it must be exactly its own URL/],
      ["/secret-client.json", /serves public clients only/],
      ["/not-json.json", /is not valid JSON/],
      ["/missing.json", /answered with HTTP 404/],
    ];
    for (const [path, message] of cases) {
      const { status, text } = await refusal(`${siteBase}${path}`);
      assert.equal(status, 400, `${path}: ${text}`);
      assert.match(text, /^This client could not be identified\. The client metadata document at https:\/\//);
      assert.match(text, message, path);
    }
    const started = Date.now();
    const slow = await refusal(`${siteBase}/slow.json`);
    assert.equal(slow.status, 400);
    assert.match(slow.text, /did not arrive within 4 s/);
    assert.ok(Date.now() - started >= 3_900, "waited for the time limit, not less");
  });

  test("client_id URLs the draft rules out are refused before anything is fetched", async () => {
    const before = [...hits.values()].reduce((a, b) => a + b, 0);
    for (const [clientId, message] of [
      [`http://${SITE_HOST}:${sitePort}/good.json`, /must use https/],
      [`${siteBase}/good.json#frag`, /must not contain a fragment/],
      [`${siteBase}/`, /must have a path/],
      [`${siteBase}/a/../good.json`, /must not contain \. or \.\. path segments/],
      [`https://user:pw@${SITE_HOST}:${sitePort}/good.json`, /must not contain a user name or password/],
    ] as const) {
      const { status, text } = await refusal(clientId);
      assert.equal(status, 400, clientId);
      assert.match(text, message, clientId);
    }
    assert.equal(
      [...hits.values()].reduce((a, b) => a + b, 0),
      before,
      "nothing was fetched",
    );
  });

  test("the document is cached within max-age (fetched once), then fetched again; /token answers 503 when its site fails", async () => {
    const clientId = `${siteBase}/changing.json`;
    const { verifier, challenge } = pkcePair();
    let page = await openConsentPage(authorizeUrlFor(clientId, challenge));
    assert.match(page.html, /<strong id="client-name">First Name<\/strong>/);
    changingName = "Second Name";
    page = await openConsentPage(authorizeUrlFor(clientId, challenge));
    assert.match(page.html, /First Name/, "still the cached copy");
    assert.equal(hits.get("/changing.json"), 1);

    remote.clock.offsetMs += 61_000;
    page = await openConsentPage(authorizeUrlFor(clientId, challenge));
    assert.match(page.html, /<strong id="client-name">Second Name<\/strong>/);
    assert.equal(hits.get("/changing.json"), 2);

    // Approved now; then the site fails after the cache expired: the code exchange is a 503 to retry, not
    // invalid_client (after which a client would give up its grant).
    const approved = await submitConsent(remote.serverUrl, page, {
      password: OWNER_PASSWORD,
      decision: "approve",
    });
    const code = new URL(approved.headers.get("location")!).searchParams.get("code")!;
    failing = true;
    remote.clock.offsetMs += 61_000;
    const exchange = {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: TEST_REDIRECT,
    };
    const refused = await postToken(remote.serverUrl, exchange);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error, "temporarily_unavailable");
    assert.match(refused.body.error_description ?? "", /answered with HTTP 502/);
    failing = false;
  });
});

test("turned off (--no-client-metadata-documents): not advertised, and a URL client_id is refused unfetched", async () => {
  const offState = await makeStateDir();
  const off = await startTestRemote(offState.dir, { clientMetadataDocuments: false });
  try {
    const metadata = (await (
      await fetch(`${off.serverUrl}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, undefined);
    const served = hits.get("/good.json") ?? 0;
    const res = await fetch(
      `${off.serverUrl}/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: `${siteBase}/good.json`,
        redirect_uri: TEST_REDIRECT,
        code_challenge: pkcePair().challenge,
        code_challenge_method: "S256",
      })}`,
      { redirect: "manual" },
    );
    assert.equal(res.status, 400);
    assert.match(
      await res.text(),
      /does not accept client_id URLs \(Client ID Metadata Documents are turned off\)/,
    );
    assert.equal(hits.get("/good.json") ?? 0, served, "nothing fetched");
  } finally {
    await off.close();
    offState.cleanup();
  }
});

describe("the fetcher's own bounds", () => {
  const testPolicy = () =>
    new ClientMetadataFetcher({
      ca: cert,
      lookup: async (hostname) => (hostname === SITE_HOST ? ["127.0.0.1"] : []),
      allowLoopback: true,
      timeoutMs: 4_000,
    });

  test("at most 8 fetches at once: the ninth is refused at once, not queued", async () => {
    const fetcher = testPolicy();
    let settled = 0;
    const slow = Array.from({ length: 8 }, (_, i) =>
      fetcher
        .resolve(`${siteBase}/slow.json?n=${i}`)
        .then(
          () => "fetched",
          (error: Error) => error.message,
        )
        .finally(() => settled++),
    );
    await assert.rejects(fetcher.resolve(`${siteBase}/good.json`), /Too many client metadata documents/);
    assert.equal(settled, 0, "refused while the eight were still running, not after waiting for them");
    for (const outcome of await Promise.all(slow)) assert.match(outcome, /did not arrive within 4 s/);
    // Once they are done, fetching works again.
    assert.equal((await fetcher.resolve(`${siteBase}/good.json`)).info.client_name, "CIMD Test App");
  });

  test("parallel requests for one URL share one fetch; the cache keeps at most 200 documents", async () => {
    const fetcher = testPolicy();
    const first = `${siteBase}/many.json?n=0`;
    await Promise.all(Array.from({ length: 5 }, () => fetcher.resolve(first)));
    assert.equal(hits.get("/many.json?n=0"), 1);
    for (let n = 1; n <= 200; n++) await fetcher.resolve(`${siteBase}/many.json?n=${n}`);
    await fetcher.resolve(`${siteBase}/many.json?n=200`);
    assert.equal(hits.get("/many.json?n=200"), 1, "a cached document is not fetched again");
    await fetcher.resolve(first);
    assert.equal(hits.get("/many.json?n=0"), 2, "the oldest made way for the 201st");
  });
});

describe("the production fetch policy (no test options)", () => {
  const production = new ClientMetadataFetcher();

  test("refuses this machine, private and link-local addresses, even where a live server answers", async () => {
    const served = hits.get("/good.json") ?? 0;
    for (const clientId of [
      `https://127.0.0.1:${sitePort}/good.json`,
      `https://localhost:${sitePort}/good.json`,
      `https://[::1]:${sitePort}/good.json`,
      "https://10.0.0.1/client.json",
      "https://172.16.5.4/client.json",
      "https://192.168.1.1/client.json",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/client.json",
      "https://0.0.0.0/client.json",
      "https://[fe80::1]/client.json",
      "https://[fd00::1]/client.json",
      "https://[::ffff:127.0.0.1]/client.json",
      "https://[::ffff:10.0.0.1]/client.json",
      "https://[0:0:0:0:0:ffff:a9fe:a9fe]/latest/meta-data",
    ]) {
      await assert.rejects(production.resolve(clientId), /private or local address/, clientId);
    }
    assert.equal(hits.get("/good.json") ?? 0, served, "none of those reached the live local server");
  });

  test("a name with any private address among its public ones is refused; loopback allowance never covers private", async () => {
    const mixed = new ClientMetadataFetcher({ lookup: async () => ["93.184.215.14", "10.1.2.3"] });
    await assert.rejects(mixed.resolve("https://mixed.example/client.json"), /private or local address/);
    const testPolicy = new ClientMetadataFetcher({
      allowLoopback: true,
      lookup: async () => ["192.168.0.10"],
    });
    await assert.rejects(testPolicy.resolve("https://lan.example/client.json"), /private or local address/);
  });

  test("the real server without test options refuses a loopback document URL on a page", async () => {
    const plainState = await makeStateDir();
    const plain = await startTestRemote(plainState.dir);
    try {
      const res = await fetch(
        `${plain.serverUrl}/authorize?${new URLSearchParams({
          response_type: "code",
          client_id: `https://localhost:${sitePort}/good.json`,
          redirect_uri: TEST_REDIRECT,
          code_challenge: pkcePair().challenge,
          code_challenge_method: "S256",
        })}`,
        { redirect: "manual" },
      );
      assert.equal(res.status, 400);
      assert.match(await res.text(), /resolves to a private or local address/);
    } finally {
      await plain.close();
      plainState.cleanup();
    }
  });

  test("public addresses pass the address check; the rest do not", () => {
    for (const address of [
      "93.184.215.14",
      "1.1.1.1",
      "2606:4700:4700::1111",
      "::ffff:8.8.8.8",
      "::ffff:808:808",
    ]) {
      assert.equal(isPublicAddress(address), true, address);
    }
    for (const address of [
      "127.0.0.1",
      "::1",
      "10.9.9.9",
      "fc00::5",
      "224.0.0.1",
      "ff02::1",
      "2001:db8::1",
      "nonsense",
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });
});
