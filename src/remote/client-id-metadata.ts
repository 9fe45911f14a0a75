import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import { parseClientMetadata, publicClient, REGISTRATION_LIMITS } from "./client-registration.js";
import { OAuthError } from "./oauth-errors.js";
import type { RegisteredClient } from "./oauth-store.js";

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25, the
// recommended registration from 2026-07-28 on): a client names itself with an https URL as its client_id,
// and this server fetches the JSON document there to learn its name and redirect URIs. The URL comes from
// anyone on the internet, so fetching it is a server-side request forgery risk. The rules, all here:
// https only; every address the name resolves to must be public (no loopback, private, link-local, CGNAT,
// multicast or documentation ranges), and the connection goes to the address that was checked (no second
// lookup a DNS rebinding could answer differently); no redirects; at most 5 KB within 5 s; a bounded
// cache; a bounded number of fetches at once.

/** What a client learns when its document cannot be used: one sentence, never a stack or a body dump. */
export class ClientMetadataError extends OAuthError {
  readonly code = "invalid_client";
  /**
   * The document could not be had right now (timeout, connection, HTTP 5xx) rather than being wrong: a
   * token request then gets a 503 to retry, not invalid_client, after which clients drop their tokens.
   */
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

export const CLIENT_METADATA_LIMITS = {
  maxBytes: 5 * 1024,
  timeoutMs: 5_000,
  cacheEntries: 200,
  /** Cache lifetime bounds (Cache-Control max-age is honoured within them) and the default without one. */
  minCacheSeconds: 60,
  maxCacheSeconds: 24 * 3600,
  defaultCacheSeconds: 300,
  concurrentFetches: 8,
} as const;

/** Whether a client_id is a metadata document URL rather than an id this server issued (a UUID). */
export function isClientIdUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** Why a client_id URL cannot name a metadata document (the draft's §3 rules), or undefined when it can. */
export function clientIdUrlProblem(clientId: string): string | undefined {
  if (clientId.length > REGISTRATION_LIMITS.uriChars)
    return `is longer than ${REGISTRATION_LIMITS.uriChars} characters`;
  if (!URL.canParse(clientId)) return "is not a valid URL";
  const url = new URL(clientId);
  if (url.protocol !== "https:") return "must use https";
  if (url.username || url.password) return "must not contain a user name or password";
  if (clientId.includes("#")) return "must not contain a fragment";
  // The URL parser removes dot segments; the draft forbids them in what the client sent.
  const path = clientId.replace(/^https:\/\/[^/?#]*/i, "").split(/[?#]/)[0] ?? "";
  const segments = path.split("/").map((s) => s.replace(/%2e/gi, "."));
  if (segments.some((s) => s === "." || s === "..")) return "must not contain . or .. path segments";
  if (url.pathname === "/" || url.pathname === "")
    return "must have a path, like https://app.example/client.json";
  return undefined;
}

/** Address ranges never fetched from: this machine, private networks, and everything not on the internet. */
const NOT_PUBLIC = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.88.99.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4],
  ] as const)
    list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of [
    // IPv4-mapped addresses (::ffff:0:0/96) are checked as the IPv4 address they carry (isPublicAddress);
    // a rule for them here would match every IPv4 address too, the way BlockList compares.
    ["::", 127], // :: and ::1
    ["64:ff9b::", 96], // NAT64 can reach private IPv4
    ["64:ff9b:1::", 48],
    ["100::", 64],
    ["2001::", 23], // IETF protocol assignments, Teredo included
    ["2001:db8::", 32],
    ["2002::", 16], // 6to4 can reach private IPv4
    ["fc00::", 7],
    ["fe80::", 10],
    ["fec0::", 10],
    ["ff00::", 8],
  ] as const)
    list.addSubnet(net, prefix, "ipv6");
  return list;
})();

/** True only for a unicast address on the public internet. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, "ipv4");
  if (family !== 6) return false;
  // An IPv4-mapped address reaches that IPv4 address; URL parsing spells it in hex (::ffff:7f00:1).
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return isPublicAddress(dotted[1]!);
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  return !NOT_PUBLIC.check(address, "ipv6");
}

const LOOPBACK = (() => {
  const list = new BlockList();
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addAddress("::1", "ipv6");
  return list;
})();

/**
 * How documents are fetched. The defaults are the production policy; the overrides exist so tests can serve
 * a document from this machine, and nothing in the CLI sets them.
 */
export interface ClientMetadataFetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  /** Tests only: extra CA certificate(s) in PEM to trust (a self-signed test server). */
  ca?: string;
  /** Tests only: name resolution (e.g. a fixed map); default the system resolver. */
  lookup?: (hostname: string) => Promise<string[]>;
  /** Tests only: loopback addresses pass the address check too (private and link-local stay refused). */
  allowLoopback?: boolean;
  nowMs?: () => number;
}

/** The client as the document describes it, in the shape the rest of the server keeps clients. */
export interface MetadataDocumentClient {
  info: RegisteredClient;
  /** When this copy stops being used and the document is fetched again. */
  expiresAt: number;
}

function cacheSeconds(cacheControl: string | undefined): number {
  const limits = CLIENT_METADATA_LIMITS;
  const maxAge = /(?:^|,)\s*(?:s-)?max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl ?? "")?.[1];
  const wanted = maxAge === undefined ? limits.defaultCacheSeconds : Number(maxAge);
  return Math.min(limits.maxCacheSeconds, Math.max(limits.minCacheSeconds, wanted));
}

export class ClientMetadataFetcher {
  readonly #options: ClientMetadataFetchOptions;
  /** Insertion-ordered, so the oldest entry is the first to go when the cache is full. */
  readonly #cache = new Map<string, MetadataDocumentClient>();
  /** One fetch per URL at a time: parallel requests for the same client share it. */
  readonly #inFlight = new Map<string, Promise<MetadataDocumentClient>>();

  constructor(options: ClientMetadataFetchOptions = {}) {
    this.#options = options;
  }

  #now(): number {
    return (this.#options.nowMs ?? Date.now)();
  }

  /** The client a metadata document URL describes: from the cache while fresh, else fetched and checked. */
  async resolve(clientId: string): Promise<MetadataDocumentClient> {
    const problem = clientIdUrlProblem(clientId);
    if (problem) throw new ClientMetadataError(`The client_id URL ${problem}.`);
    const cached = this.#cache.get(clientId);
    if (cached && cached.expiresAt > this.#now()) return cached;
    const running = this.#inFlight.get(clientId);
    if (running) return await running;
    // Checked and claimed in the same synchronous step, so concurrent requests cannot overshoot the bound.
    if (this.#inFlight.size >= CLIENT_METADATA_LIMITS.concurrentFetches) {
      throw new ClientMetadataError(
        "Too many client metadata documents are being fetched right now; try again in a moment.",
      );
    }
    const fetching = this.#fetchAndCheck(clientId).finally(() => this.#inFlight.delete(clientId));
    this.#inFlight.set(clientId, fetching);
    const client = await fetching;
    this.#cache.delete(clientId);
    this.#cache.set(clientId, client);
    while (this.#cache.size > CLIENT_METADATA_LIMITS.cacheEntries) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    return client;
  }

  async #fetchAndCheck(clientId: string): Promise<MetadataDocumentClient> {
    const { body, cacheControl } = await this.#fetch(new URL(clientId));
    let document: unknown;
    try {
      document = JSON.parse(body);
    } catch {
      throw new ClientMetadataError(`The client metadata document at ${clientId} is not valid JSON.`);
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new ClientMetadataError(`The client metadata document at ${clientId} is not a JSON object.`);
    }
    const fields = document as Record<string, unknown>;
    // The document must name itself: otherwise any URL could vouch for a different client.
    if (fields.client_id !== clientId) {
      throw new ClientMetadataError(
        `The client metadata document at ${clientId} names a different client_id; it must be exactly its own URL.`,
      );
    }
    const method = fields.token_endpoint_auth_method;
    if (method !== undefined && method !== "none") {
      throw new ClientMetadataError(
        `The client metadata document at ${clientId} asks for token_endpoint_auth_method ${JSON.stringify(method)}; this server serves public clients only ("none", with PKCE).`,
      );
    }
    let metadata: ReturnType<typeof parseClientMetadata>;
    try {
      metadata = parseClientMetadata(document);
    } catch (error) {
      throw new ClientMetadataError(
        `The client metadata document at ${clientId} is not usable: ${(error as Error).message}.`,
      );
    }
    const now = this.#now();
    return {
      info: publicClient(metadata, clientId, Math.floor(now / 1000)),
      expiresAt: now + cacheSeconds(cacheControl) * 1000,
    };
  }

  /** The address to connect to: every address of the name must be public; the first one is used. */
  async #checkedAddress(hostname: string): Promise<string> {
    const bare = hostname.replace(/^\[|\]$/g, "");
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        addresses = this.#options.lookup
          ? await this.#options.lookup(bare)
          : (await dnsLookup(bare, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        throw new ClientMetadataError(`The client_id host ${bare} could not be resolved.`);
      }
    }
    if (addresses.length === 0)
      throw new ClientMetadataError(`The client_id host ${bare} could not be resolved.`);
    const allowed = (address: string) =>
      isPublicAddress(address) ||
      (this.#options.allowLoopback === true &&
        LOOPBACK.check(address, isIP(address) === 6 ? "ipv6" : "ipv4"));
    // All of them, not just the one used: a name that also points inside is not fetched at all.
    if (!addresses.every(allowed)) {
      throw new ClientMetadataError(
        `The client_id host ${bare} resolves to a private or local address; metadata documents are only fetched from public addresses.`,
      );
    }
    return addresses[0]!;
  }

  async #fetch(url: URL): Promise<{ body: string; cacheControl?: string }> {
    const address = await this.#checkedAddress(url.hostname);
    const maxBytes = this.#options.maxBytes ?? CLIENT_METADATA_LIMITS.maxBytes;
    const timeoutMs = this.#options.timeoutMs ?? CLIENT_METADATA_LIMITS.timeoutMs;
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    return await new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string, transient = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(new ClientMetadataError(`The client metadata document at ${url.href} ${message}.`, transient));
      };
      // The connection goes to the checked address; the certificate is still checked against the name.
      const request = httpsRequest({
        host: address,
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        servername: isIP(hostname) ? undefined : hostname,
        headers: { host: url.host, accept: "application/json", "user-agent": "mac-messages-mcp" },
        agent: false,
        ca: this.#options.ca,
        rejectUnauthorized: true,
      });
      const timer = setTimeout(() => fail(`did not arrive within ${timeoutMs / 1000} s`, true), timeoutMs);
      request.on("error", (error: NodeJS.ErrnoException) => {
        const tls = error.code?.startsWith("ERR_TLS") || /certificate|self.signed/i.test(error.message);
        if (tls) fail("is not served with a valid https certificate");
        else fail(`could not be fetched (${error.code ?? "connection failed"})`, true);
      });
      request.on("response", (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400)
          return fail(`answered with a redirect (${status}); redirects are not followed`);
        if (status !== 200) return fail(`answered with HTTP ${status}`, status >= 500);
        const declared = Number(response.headers["content-length"]);
        if (Number.isFinite(declared) && declared > maxBytes) return fail(`is larger than ${maxBytes} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) return fail(`is larger than ${maxBytes} bytes`);
          chunks.push(chunk);
        });
        response.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const cacheControl = response.headers["cache-control"];
          resolve({ body: Buffer.concat(chunks).toString("utf8"), cacheControl });
        });
        response.on("error", () => fail("was cut off", true));
      });
      request.end();
    });
  }
}
