// server.json, the entry for the official MCP Registry, checked against the rules of its published schema
// (https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json) and against package.json.
// The schema file itself is not vendored: its repository's snapshot available here carries no licence, so
// the constraints the registry enforces are written out below, each one as the schema states it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { READ_ONLY_ENV } from "../../src/config/index.js";
import { CONTACTS_DIR_ENV, DB_ENV } from "../../src/config/paths.js";
import { readDoc } from "../helpers/docs-markdown.js";
import { REPO_ROOT } from "../helpers/packed-package.js";

interface KeyValueInput {
  name: string;
  description?: string;
  format?: string;
  isRequired?: boolean;
  default?: string;
}
interface Package {
  registryType: string;
  registryBaseUrl?: string;
  identifier: string;
  version: string;
  runtimeHint?: string;
  transport: { type: string };
  environmentVariables?: KeyValueInput[];
}
interface ServerJson {
  $schema: string;
  name: string;
  description: string;
  version: string;
  packages: Package[];
}

const serverJson = JSON.parse(readFileSync(join(REPO_ROOT, "server.json"), "utf8")) as ServerJson;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  mcpName: string;
  files: string[];
};

const PACKAGE_KEYS = new Set([
  "registryType",
  "registryBaseUrl",
  "identifier",
  "version",
  "fileSha256",
  "runtimeHint",
  "transport",
  "runtimeArguments",
  "packageArguments",
  "environmentVariables",
]);
const INPUT_KEYS = new Set([
  "name",
  "description",
  "isRequired",
  "format",
  "value",
  "isSecret",
  "default",
  "placeholder",
  "choices",
  "variables",
]);

test("server.json follows the registry schema's rules", () => {
  assert.match(
    serverJson.$schema,
    /^https:\/\/static\.modelcontextprotocol\.io\/schemas\/[\d-]+\/server\.schema\.json$/,
  );
  assert.match(serverJson.name, /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/, "reverse-DNS name with one slash");
  assert.ok(serverJson.name.length >= 3 && serverJson.name.length <= 200);
  assert.ok(
    serverJson.description.length >= 1 && serverJson.description.length <= 100,
    "description ≤ 100 chars",
  );
  assert.ok(serverJson.version.length <= 255);
  assert.doesNotMatch(serverJson.version, /^[\^~><=]|\.x$|\*|^latest$/, "a specific version, not a range");
  assert.ok(serverJson.packages.length >= 1);
  for (const entry of serverJson.packages) {
    for (const key of Object.keys(entry)) assert.ok(PACKAGE_KEYS.has(key), `package key ${key} is allowed`);
    for (const key of ["registryType", "identifier", "version", "transport"] as const) {
      assert.ok(entry[key], `package has ${key}`);
    }
    assert.notEqual(entry.version, "latest");
    assert.ok(["stdio", "streamable-http", "sse"].includes(entry.transport.type));
    if (entry.registryType === "npm") assert.equal(entry.registryBaseUrl, "https://registry.npmjs.org");
    for (const variable of entry.environmentVariables ?? []) {
      for (const key of Object.keys(variable)) assert.ok(INPUT_KEYS.has(key), `input key ${key} is allowed`);
      assert.ok(variable.name, "every environment variable has a name");
      if (variable.format !== undefined) {
        assert.ok(["string", "number", "boolean", "filepath"].includes(variable.format));
      }
    }
  }
});

test("server.json agrees with package.json (name, version, npm identifier) and ships in the package", () => {
  assert.equal(
    serverJson.name,
    pkg.mcpName,
    "the registry verifies npm ownership through package.json mcpName",
  );
  assert.equal(serverJson.version, pkg.version);
  const npm = serverJson.packages.find((entry) => entry.registryType === "npm");
  assert.ok(npm, "an npm package entry");
  assert.equal(npm.identifier, pkg.name);
  assert.equal(npm.version, pkg.version);
  assert.ok(pkg.files.includes("server.json"));
});

test("server.json names the environment variables the server actually reads", () => {
  const names = serverJson.packages.flatMap((entry) => (entry.environmentVariables ?? []).map((v) => v.name));
  assert.deepEqual(names.sort(), [CONTACTS_DIR_ENV, DB_ENV, READ_ONLY_ENV].sort());
});

test("the namespace is io.github.<owner>: the owner of this checkout's GitHub remote, or said to be unclaimed", () => {
  const owner = /^io\.github\.([A-Za-z0-9-]+)\/[a-zA-Z0-9._-]+$/.exec(serverJson.name)?.[1];
  assert.ok(owner, `${serverJson.name} is in a GitHub namespace, io.github.<owner>/<name>`);
  const remotes = spawnSync("git", ["remote", "-v"], { cwd: REPO_ROOT, encoding: "utf8" }).stdout ?? "";
  const githubOwners = [...remotes.matchAll(/github\.com[:/]([A-Za-z0-9-]+)\//g)].map((match) => match[1]);
  if (githubOwners.length > 0) {
    // The registry grants the namespace of the account (or organisation) that publishes, spelled as GitHub
    // spells it: case matters.
    assert.ok(githubOwners.includes(owner), `io.github.${owner} is the owner of a remote (${githubOwners})`);
  } else {
    // No GitHub remote: nobody can have checked that the owner exists and is ours. The release steps must
    // say that the namespace has to be claimed (or changed) before publishing.
    const steps = readDoc("docs/development.md");
    assert.ok(steps.includes(`\`${serverJson.name}\``), "docs/development.md names the namespace");
    assert.match(steps, /not claimed yet/, "and says it is not claimed yet");
  }
});
