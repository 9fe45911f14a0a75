// Gets a bearer token from the remote server the way a native client does (dynamic registration, PKCE,
// the owner approving on the consent form, code exchange), over plain HTTP on 127.0.0.1.
import { createHash, randomBytes } from "node:crypto";

const REDIRECT = "http://127.0.0.1:9/callback";

export async function obtainBearerToken(serverUrl: string, ownerPassword: string): Promise<string> {
  const registration = await fetch(`${serverUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Benchmark",
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
    }),
  });
  if (registration.status !== 201) throw new Error(`client registration failed: HTTP ${registration.status}`);
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = new URL(`${serverUrl}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "messages:read",
    resource: `${serverUrl}/mcp`,
    state: "bench",
  }).toString();
  const page = await fetch(authorize, { redirect: "manual" });
  const html = await page.text();
  const field = (name: string) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1] ?? "";
  const consent = await fetch(`${serverUrl}/consent`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "",
    },
    body: new URLSearchParams({
      request_id: field("request_id"),
      csrf_token: field("csrf_token"),
      owner_password: ownerPassword,
      access: "read",
      decision: "approve",
    }),
  });
  const location = consent.headers.get("location");
  const code = location ? new URL(location).searchParams.get("code") : null;
  if (!code) throw new Error(`consent did not return a code (HTTP ${consent.status})`);
  const tokenResponse = await fetch(`${serverUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    }),
  });
  const body = (await tokenResponse.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`token exchange failed: ${body.error ?? tokenResponse.status}`);
  return body.access_token;
}
