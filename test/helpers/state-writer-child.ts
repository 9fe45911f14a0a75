// Child process for the kill -9 tests: writes OAuth state through the real store as fast as it can and
// prints one "ack" line after each write has returned (stdout is a pipe: writeSync returns once the
// line is in the pipe, so an ack the parent reads means the write completed). Stops by itself.
import { writeSync } from "node:fs";
import { randomToken } from "../../src/remote/oauth-provider.js";
import { hashToken, OAuthStore } from "../../src/remote/oauth-store.js";

const [stateDir, prefix = "w", maxMsArg = "5000"] = process.argv.slice(2);
if (!stateDir) throw new Error("usage: state-writer-child <stateDir> [prefix] [maxMs]");
const deadline = Date.now() + Number(maxMsArg);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const store = OAuthStore.open(stateDir, nowSeconds);
const ack = (line: string) => writeSync(1, `ack ${line}\n`);
const live: string[] = [];

for (let i = 0; Date.now() < deadline; i++) {
  const clientId = `${prefix}-${process.pid}-${i}`;
  store.transaction(() =>
    store.insertClient({
      client_id: clientId,
      client_id_issued_at: nowSeconds(),
      client_name: `crash test ${"x".repeat(200)}`,
      redirect_uris: ["http://127.0.0.1:7777/callback"],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    }),
  );
  ack(`client ${clientId}`);
  const hash = hashToken(randomToken());
  const record = {
    clientId,
    scopes: ["messages:read"],
    resource: "http://127.0.0.1:1/mcp",
    familyId: `${clientId}-family`,
    issuedAt: nowSeconds(),
    expiresAt: nowSeconds() + 86_400,
  };
  store.transaction(() => {
    store.insertToken("access", hash, record);
    store.insertToken("refresh", `r${hash}`, record);
  });
  ack(`token ${hash}`);
  live.push(hash);
  // Every third round revokes an older token: a deletion that was acknowledged must stay deleted.
  if (i % 3 === 2) {
    const victim = live.shift()!;
    // Announced first: if the kill lands between the write and its ack, the token may be gone or not.
    writeSync(1, `revoking ${victim}\n`);
    store.transaction(() => {
      store.deleteToken(victim);
      store.deleteToken(`r${victim}`);
    });
    ack(`revoked ${victim}`);
  }
}
