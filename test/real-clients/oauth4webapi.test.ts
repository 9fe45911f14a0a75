// Remote mode's OAuth through oauth4webapi, a strict, certified OAuth 2 client library, with the owner
// approving on the real consent page in headless Chromium: the 401 challenge → protected-resource metadata
// (RFC 9728) → authorization-server metadata (RFC 8414, issuer compared exactly) → dynamic registration →
// PKCE authorization (state, and RFC 9207 `iss` when advertised, validated) → code exchange bound to the
// /mcp resource (RFC 8707) → an MCP request → refresh → revocation, after which both tokens are dead.
// Loopback HTTP needs `allowInsecureRequests`; every protocol check stays on.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as oauth from "oauth4webapi";
import type { Browser } from "playwright-core";
import { realClientsOrSkip } from "../helpers/real-clients.js";
import { OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import {
  consentInBrowser,
  LoopbackRedirectReceiver,
  launchChromium,
} from "../helpers/remote-oauth-client.js";
import { buildRealClientFixture, type RealClientFixture } from "./fixture.js";
import { type RemoteCli, startRemoteCli } from "./our-server.js";

// oauth4webapi is a root devDependency (imported here), but this file belongs with the other real clients.
const { skip } = realClientsOrSkip();
const TIMEOUT = 240_000;
// The one relaxation: the test server speaks plain HTTP on 127.0.0.1.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "oauth4webapi-test", version: "1.0.0" },
  },
});

function mcpHeaders(): Headers {
  return new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream" });
}

describe("oauth4webapi (strict) against remote mode", { skip, timeout: TIMEOUT }, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let browser: Browser;
  let receiver: LoopbackRedirectReceiver;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    browser = await launchChromium();
    receiver = new LoopbackRedirectReceiver();
    await receiver.start();
  });
  after(async () => {
    await receiver?.close();
    await browser?.close();
    await remote?.close();
    fixture?.cleanup();
  });

  test("discovery → registration → PKCE consent → token for /mcp → refresh → revoke", {
    timeout: TIMEOUT,
  }, async () => {
    const resource = new URL(remote.mcpUrl);

    // 1. Unauthenticated, /mcp answers 401 with a Bearer challenge naming its resource metadata.
    const challenge = await oauth
      .protectedResourceRequest("not-a-token", "POST", resource, mcpHeaders(), INITIALIZE, insecure)
      .then(
        () => assert.fail("/mcp accepted a made-up token"),
        (error: unknown) => error,
      );
    assert.ok(challenge instanceof oauth.WWWAuthenticateChallengeError, String(challenge));
    assert.equal(challenge.response.status, 401);
    const bearer = challenge.cause.find((c) => c.scheme === "bearer");
    assert.ok(bearer, "no Bearer challenge");
    const metadataUrl = bearer.parameters.resource_metadata;
    assert.equal(metadataUrl, new URL("/.well-known/oauth-protected-resource/mcp", remote.serverUrl).href);

    // 2. Protected-resource metadata for exactly this resource, naming the authorization server.
    const rs = await oauth.processResourceDiscoveryResponse(
      resource,
      await oauth.resourceDiscoveryRequest(resource, insecure),
    );
    const issuer = new URL(rs.authorization_servers?.[0] ?? assert.fail("no authorization_servers"));

    // 3. Authorization-server metadata; oauth4webapi refuses an issuer that differs from the one asked for.
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
    assert.ok(as.code_challenge_methods_supported?.includes("S256"));

    // 4. Dynamic client registration of a public native client with a loopback redirect.
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: "oauth4webapi strict test",
          redirect_uris: [receiver.redirectUrl],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        },
        insecure,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: "none" };

    // 5. PKCE authorization; the owner approves read + send on the consent page in Chromium.
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint ?? assert.fail("no authorization_endpoint"));
    authorizationUrl.search = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: receiver.redirectUrl,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      scope: "messages:read messages:send",
      state,
      resource: resource.href,
    }).toString();
    const callback = receiver.next();
    await consentInBrowser(browser, authorizationUrl, {
      password: OWNER_PASSWORD,
      access: "read_send",
      expectClientName: "oauth4webapi strict test",
    });
    // Checks state, error responses, and `iss` when the server advertises RFC 9207.
    const params = oauth.validateAuthResponse(as, client, await callback, state);

    // 6. Code exchange, bound to the /mcp resource.
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        receiver.redirectUrl,
        verifier,
        {
          additionalParameters: { resource: resource.href },
          ...insecure,
        },
      ),
    );
    assert.equal(tokens.token_type, "bearer");
    assert.deepEqual(tokens.scope?.split(" ").sort(), ["messages:read", "messages:send"]);
    assert.ok(tokens.refresh_token, "no refresh token");
    assert.ok((tokens.expires_in ?? 0) > 0);

    // 7. The token opens /mcp.
    const initialized = await oauth.protectedResourceRequest(
      tokens.access_token,
      "POST",
      resource,
      mcpHeaders(),
      INITIALIZE,
      insecure,
    );
    assert.equal(initialized.status, 200);
    assert.match(await initialized.text(), /"serverInfo"/);

    // 8. Refresh: a new access token (and rotated refresh token) for the same resource.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, {
        additionalParameters: { resource: resource.href },
        ...insecure,
      }),
    );
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.ok(refreshed.refresh_token);
    const afterRefresh = await oauth.protectedResourceRequest(
      refreshed.access_token,
      "POST",
      resource,
      mcpHeaders(),
      INITIALIZE,
      insecure,
    );
    assert.equal(afterRefresh.status, 200);

    // 9. Revocation of both tokens: the access token no longer opens /mcp, the refresh token is refused.
    for (const token of [refreshed.access_token, refreshed.refresh_token]) {
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, oauth.None(), token, insecure),
      );
    }
    await assert.rejects(
      oauth.protectedResourceRequest(
        refreshed.access_token,
        "POST",
        resource,
        mcpHeaders(),
        INITIALIZE,
        insecure,
      ),
      (error: unknown) =>
        error instanceof oauth.WWWAuthenticateChallengeError && error.response.status === 401,
    );
    await assert.rejects(
      oauth
        .refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token, insecure)
        .then((res) => oauth.processRefreshTokenResponse(as, client, res)),
      (error: unknown) => error instanceof oauth.ResponseBodyError && error.error === "invalid_grant",
    );
  });
});
