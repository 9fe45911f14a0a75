// OAuth abuse the negative suite (remote-oauth-negative.test.ts) does not already cover: /token and
// /register throttling, the `plain` PKCE method and PKCE downgrade, a resource switched between
// authorization and token exchange, open-redirect attempts, CSRF tokens carried over from another
// request, and property tests for redirect-URI matching and the registration rule.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { redirectUriMatches, redirectUriProblem } from "../../src/remote/client-registration.js";
import {
  makeStateDir,
  OWNER_PASSWORD,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  approvedCode,
  authorizeUrl,
  openConsentPage,
  pkcePair,
  postToken,
  registerClient,
  submitConsent,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";

let state: Awaited<ReturnType<typeof makeStateDir>>;
let remote: TestRemote;
let clientId: string;

before(async () => {
  state = await makeStateDir();
  remote = await startTestRemote(state.dir);
  clientId = await registerClient(remote.serverUrl);
});
after(async () => {
  await remote?.close();
  state?.cleanup();
});

/** GET /authorize without following redirects; a consent page (200) would mean the attempt got through. */
async function authorize(extra: Record<string, string>, id = clientId) {
  const res = await fetch(authorizeUrl(remote.serverUrl, id, pkcePair().challenge, extra), {
    redirect: "manual",
  });
  const body = await res.text();
  return { status: res.status, location: res.headers.get("location"), body };
}

test("PKCE: the plain method and a missing code_challenge are refused before any consent page", async () => {
  const { verifier } = pkcePair();
  const attempts: Record<string, string>[] = [
    { code_challenge_method: "plain", code_challenge: verifier },
    { code_challenge: "" },
    { code_challenge_method: "" },
    { code_challenge_method: "s256" },
    { code_challenge: "short" },
    { code_challenge: `${"a".repeat(42)}=` },
  ];
  for (const extra of attempts) {
    const res = await authorize(extra);
    assert.notEqual(res.status, 200, `${JSON.stringify(extra)} reached the consent page`);
    assert.doesNotMatch(res.body, /owner_password/);
    if (res.status === 302) {
      const location = new URL(res.location!);
      assert.equal(`${location.origin}${location.pathname}`, TEST_REDIRECT);
      assert.equal(location.searchParams.get("error"), "invalid_request");
      assert.equal(location.searchParams.get("code"), null);
    } else {
      assert.equal(res.status, 400);
    }
  }
  // The parameter left out entirely (not just empty).
  const url = new URL(authorizeUrl(remote.serverUrl, clientId, "x"));
  url.searchParams.delete("code_challenge");
  url.searchParams.delete("code_challenge_method");
  const missing = await fetch(url, { redirect: "manual" });
  assert.notEqual(missing.status, 200);
  assert.equal(
    new URL(missing.headers.get("location") ?? `${TEST_REDIRECT}?error=x`).searchParams.get("code"),
    null,
  );
});

test("PKCE downgrade at /token: no verifier, or the challenge sent as a plain verifier, gets no tokens", async () => {
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(remote.serverUrl, clientId, challenge);
  const withoutVerifier = await postToken(remote.serverUrl, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
  });
  assert.equal(withoutVerifier.status, 400);
  assert.equal(withoutVerifier.body.access_token, undefined);
  const plainStyle = await postToken(remote.serverUrl, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: challenge,
  });
  assert.equal(plainStyle.status, 400);
  assert.equal(plainStyle.body.error, "invalid_grant");
  const afterwards = await postToken(remote.serverUrl, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
  });
  assert.equal(afterwards.status, 400, "a code that met a wrong verifier is burnt");
});

test("a code is bound to its resource: another resource at /token is refused and burns the code", async () => {
  for (const resource of ["https://other.example/mcp", `${remote.serverUrl}/sse`]) {
    const { verifier, challenge } = pkcePair();
    const code = await approvedCode(remote.serverUrl, clientId, challenge, {
      resource: `${remote.serverUrl}/mcp`,
    });
    const switched = await postToken(remote.serverUrl, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: TEST_REDIRECT,
      resource,
    });
    assert.equal(switched.status, 400, resource);
    assert.equal(switched.body.error, "invalid_target");
    const retry = await postToken(remote.serverUrl, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: TEST_REDIRECT,
      resource: `${remote.serverUrl}/mcp`,
    });
    assert.equal(retry.status, 400, "the code is gone after a mismatched attempt");
  }
});

test("open-redirect attempts: unregistered look-alike redirect URIs get a 400 page, never a Location", async () => {
  const httpsClient = await registerClient(remote.serverUrl, { redirectUris: ["https://app.example/cb"] });
  const attempts: [string, string][] = [
    [httpsClient, "https://app.example/cb/../evil"],
    [httpsClient, "https://app.example/cb?next=https://evil.example"],
    [httpsClient, "https://app.example.evil.example/cb"],
    [httpsClient, "https://app.example@evil.example/cb"],
    [httpsClient, "https://evil.example/cb#https://app.example/cb"],
    [httpsClient, "https://app.example:8443/cb"],
    [httpsClient, "http://app.example/cb"],
    [httpsClient, "//evil.example/cb"],
    [httpsClient, "https://app.example/CB"],
    [httpsClient, "https:/\\evil.example/cb"],
    [clientId, "http://localhost:7777/callback"],
    [clientId, "http://127.0.0.1.evil.example:7777/callback"],
    [clientId, "http://127.0.0.1:7777/callback/../evil"],
    [clientId, "http://127.0.0.1:7777/callback?x=1"],
    [clientId, "https://127.0.0.1:7777/callback"],
    [clientId, "javascript:alert(1)//127.0.0.1:7777/callback"],
  ];
  // Same host, path and query, another port and user info: the SDK's loopback rule lets it through to
  // the provider, which refuses it (the error goes to this machine, never to evil.example).
  const withUserInfo = await authorize({ redirect_uri: "http://evil.example@127.0.0.1:7778/callback" });
  assert.notEqual(withUserInfo.status, 200);
  assert.doesNotMatch(withUserInfo.body, /owner_password/);
  for (const [id, redirect] of attempts) {
    // An invalid scope as well: errors must still not be sent to an unregistered URI.
    const res = await authorize({ redirect_uri: redirect, scope: "messages:delete" }, id);
    assert.equal(res.status, 400, `${redirect}: ${res.status} ${res.location}`);
    assert.equal(res.location, null, redirect);
  }
  // Unknown client: no redirect either, whatever redirect_uri says.
  const unknownClient = await authorize({ redirect_uri: "https://evil.example/cb" }, "no-such-client");
  assert.equal(unknownClient.status, 400);
  assert.equal(unknownClient.location, null);
});

test("CSRF: the token and cookie of one consent request do not approve another", async () => {
  const first = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge));
  const second = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge));
  assert.notEqual(first.csrfToken, second.csrfToken);
  const swapped = await submitConsent(remote.serverUrl, second, {
    password: OWNER_PASSWORD,
    decision: "approve",
    csrfToken: first.csrfToken,
    cookie: first.cookie,
  });
  assert.equal(swapped.status, 403);
  assert.equal(swapped.headers.get("location"), null);
  // Cookie of the right name but holding the other request's token (cookie tossing).
  const tossed = await submitConsent(remote.serverUrl, second, {
    password: OWNER_PASSWORD,
    decision: "approve",
    cookie: `${second.cookie.split("=")[0]}=${first.csrfToken}`,
  });
  assert.equal(tossed.status, 403);
  // The genuine pair still works: refusals did not consume the request.
  const genuine = await submitConsent(remote.serverUrl, second, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(genuine.status, 302);
});

test("/token is throttled: after 50 attempts in the window the server answers 429 and issues nothing", async () => {
  // A server of its own: the limit is server-wide and would starve the other tests.
  const throttled = await startTestRemote(state.dir);
  try {
    const id = await registerClient(throttled.serverUrl);
    const { verifier, challenge } = pkcePair();
    const code = await approvedCode(throttled.serverUrl, id, challenge);
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const guess = await postToken(throttled.serverUrl, {
        grant_type: "authorization_code",
        client_id: id,
        code: `guess-${i}`,
        code_verifier: verifier,
      });
      statuses.push(guess.status);
    }
    assert.ok(
      statuses.every((s) => s === 400),
      statuses.join(","),
    );
    const blocked = await postToken(throttled.serverUrl, {
      grant_type: "authorization_code",
      client_id: id,
      code,
      code_verifier: verifier,
    });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, "too_many_requests");
    assert.equal(blocked.body.access_token, undefined, "even the right code gets nothing while throttled");
  } finally {
    await throttled.close();
  }
});

test("/register is throttled (20 per hour), so open registration cannot fill the state file", async () => {
  const throttled = await startTestRemote(state.dir);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await fetch(`${throttled.serverUrl}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: [TEST_REDIRECT], token_endpoint_auth_method: "none" }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(201));
    assert.equal(statuses[20], 429);
  } finally {
    await throttled.close();
  }
});

// ---- properties of redirect-URI matching (the SDK's matcher, which /authorize uses) -----------------

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"] as const;
const pathArb = fc
  .array(fc.stringMatching(/^[a-zA-Z0-9._~-]{1,8}$/), { maxLength: 3 })
  .map((p) => `/${p.join("/")}`);
const portArb = fc.integer({ min: 1, max: 65535 });
const loopbackUriArb = fc
  .tuple(fc.constantFrom(...LOOPBACK), fc.option(portArb, { nil: undefined }), pathArb)
  .map(([host, port, path]) => `http://${host}${port === undefined ? "" : `:${port}`}${path}`);

/** Strings an attacker would try against a registered URI: edits of it plus arbitrary URLs. */
function attackArb(registered: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom(
      `${registered}/../evil`,
      `${registered}?next=https://evil.example`,
      `${registered}#frag`,
      registered.replace("://", "://evil.example@"),
      registered.replace(/^(https?:\/\/[^/:]+)/, "$1.evil.example"),
      registered.replace(/^https?:/, "javascript:"),
      registered.toUpperCase(),
      `${registered}%2f..%2fevil`,
    ),
    fc.tuple(fc.webUrl(), fc.string()).map(([url, junk]) => `${url}${junk}`),
  );
}

test("property: a non-loopback redirect URI matches only itself, character for character", () => {
  fc.assert(
    fc.property(
      fc.webUrl({ validSchemes: ["https"] }).filter((u) => !LOOPBACK.some((h) => new URL(u).hostname === h)),
      (registered) =>
        fc.assert(
          fc.property(attackArb(registered), (requested) => {
            if (redirectUriMatches(requested, registered)) assert.equal(requested, registered);
          }),
          { numRuns: 20 },
        ),
    ),
    { numRuns: 100 },
  );
});

test("property: a loopback redirect URI matches any port of the same host, path and query, nothing else", () => {
  fc.assert(
    fc.property(loopbackUriArb, portArb, (registered, port) => {
      const moved = new URL(registered);
      moved.port = String(port);
      assert.ok(redirectUriMatches(moved.href, registered), `${moved.href} vs ${registered}`);
      fc.assert(
        fc.property(attackArb(registered), (requested) => {
          if (!redirectUriMatches(requested, registered)) return;
          const a = new URL(requested);
          const b = new URL(registered);
          // The browser goes to the same place on this machine (user info, if any, is refused by the
          // provider: see the open-redirect test above).
          assert.deepEqual(
            [a.protocol, a.hostname, a.pathname, a.search],
            [b.protocol, b.hostname, b.pathname, b.search],
            requested,
          );
        }),
        { numRuns: 20 },
      );
    }),
    { numRuns: 100 },
  );
});

test("property: registration accepts only https, http to loopback or a native-app scheme, never a fragment", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.webUrl({ validSchemes: ["http", "https", "ftp", "javascript", "file"], withFragments: true }),
        loopbackUriArb,
        fc.string(),
      ),
      (uri) => {
        if (redirectUriProblem(uri) !== undefined) return;
        const url = new URL(uri);
        assert.equal(url.hash, "");
        assert.equal(url.username + url.password, "");
        const nativeApp = !["http:", "https:", "ftp:", "javascript:", "file:", "data:"].includes(
          url.protocol,
        );
        assert.ok(
          url.protocol === "https:" ||
            (url.protocol === "http:" && (LOOPBACK as readonly string[]).includes(url.hostname)) ||
            (nativeApp && !/\s/.test(uri) && (url.host !== "" || url.pathname.startsWith("/"))),
          uri,
        );
      },
    ),
    { numRuns: 1000 },
  );
});
