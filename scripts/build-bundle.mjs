#!/usr/bin/env node
// `npm run bundle`: builds the Claude Desktop extension, an MCP Bundle (.mcpb), with Anthropic's own
// `mcpb` tool. The bundle holds exactly what the npm package holds (`npm pack`, so package.json "files"
// stays the one list), its production dependencies at the versions in package-lock.json, and a manifest
// whose name, version and description come from package.json.
//
// better-sqlite3 is native code, compiled or downloaded for the machine that runs this script: build the
// bundle you give to Macs on a Mac (`npm run bundle` there), with the Node major Claude Desktop runs.
//
// Usage: node scripts/build-bundle.mjs [--out-dir DIR]   (default: build/)
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MCPB = join(ROOT, "node_modules", ".bin", "mcpb");

function fail(message) {
  process.stderr.write(`build-bundle: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  let outDir = join(ROOT, "build");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out-dir" && argv[i + 1]) outDir = resolve(argv[++i]);
    else if (argv[i] === "-h" || argv[i] === "--help") {
      process.stdout.write("Usage: npm run bundle [-- --out-dir DIR]\n");
      process.exit(0);
    } else fail(`unknown argument: ${argv[i]} (usage: npm run bundle [-- --out-dir DIR])`);
  }
  return { outDir };
}

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** `${name}`: a variable the host (Claude Desktop) substitutes when it starts the server. */
const hostVariable = (name) => `\${${name}}`;

/** The manifest (MCPB manifest_version 0.3), derived from package.json. */
export function bundleManifest(pkg) {
  return {
    manifest_version: "0.3",
    name: pkg.name,
    display_name: "macOS Messages",
    version: pkg.version,
    description: pkg.description,
    long_description:
      "Read your Messages history (iMessage, SMS, RCS) with names from Contacts, search it, and send " +
      "messages through Messages.app. Needs Full Disk Access for Claude (System Settings → Privacy & " +
      "Security) to read ~/Library/Messages/chat.db; without it, every tool answers with that fix.",
    author: { name: "The mac-messages-mcp contributors" },
    license: pkg.license,
    keywords: pkg.keywords,
    server: {
      type: "node",
      entry_point: pkg.bin["mac-messages-mcp"],
      mcp_config: {
        command: "node",
        args: [`${hostVariable("__dirname")}/${pkg.bin["mac-messages-mcp"]}`],
        // Empty settings mean "the default": the server treats an empty variable as unset.
        env: {
          MAC_MESSAGES_DB: hostVariable("user_config.chat_db"),
          MAC_MESSAGES_CONTACTS_DIR: hostVariable("user_config.contacts_dir"),
          MAC_MESSAGES_READ_ONLY: hostVariable("user_config.read_only"),
        },
      },
    },
    tools_generated: true,
    prompts_generated: true,
    user_config: {
      chat_db: {
        type: "file",
        title: "Messages database",
        description:
          "The chat.db to read. Leave empty for your own: ~/Library/Messages/chat.db (needs Full Disk Access).",
        required: false,
        default: "",
      },
      contacts_dir: {
        type: "directory",
        title: "Contacts folder",
        description:
          "Where names come from. Leave empty for ~/Library/Application Support/AddressBook and all its accounts.",
        required: false,
        default: "",
      },
      read_only: {
        type: "boolean",
        title: "Read-only",
        description: "Offer no tool that sends messages, schedules them or creates contacts.",
        required: false,
        default: false,
      },
    },
    compatibility: {
      platforms: ["darwin"],
      runtimes: { node: pkg.engines.node },
    },
  };
}

function main() {
  const { outDir } = parseArgs(process.argv.slice(2));
  if (!existsSync(MCPB)) fail("the mcpb tool is missing: run npm install (it is a devDependency)");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const stage = join(outDir, "bundle");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  process.stderr.write("build-bundle: npm pack (runs prepack: a clean build)\n");
  const packOutput = run("npm", ["pack", "--json", "--silent", "--pack-destination", outDir], ROOT);
  // prepack's build steps may print to stdout too; npm's JSON is the part from the line that opens its array.
  const packed = JSON.parse(packOutput.slice(Math.max(0, packOutput.search(/^\[/m))));
  const tarball = join(outDir, packed[0].filename);
  run("tar", ["-xzf", tarball, "-C", stage, "--strip-components=1"], ROOT);
  rmSync(tarball);

  // The production dependencies: this checkout's node_modules (installed from package-lock.json, native
  // modules already built for this machine) with everything else pruned away. A fresh `npm ci --omit=dev`
  // would give the same packages but compile better-sqlite3 again wherever no prebuilt binary downloads.
  process.stderr.write("build-bundle: production dependencies (node_modules, npm prune --omit=dev)\n");
  if (!existsSync(join(ROOT, "node_modules", "better-sqlite3"))) fail("run npm ci first");
  // Copy from the real folder: a worktree links node_modules to another checkout's, and a copied link would
  // make the prune below delete that checkout's devDependencies.
  cpSync(realpathSync(join(ROOT, "node_modules")), join(stage, "node_modules"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  if (lstatSync(join(stage, "node_modules")).isSymbolicLink()) fail("the staged node_modules is a link");
  rmSync(join(stage, "node_modules", ".cache"), { recursive: true, force: true });
  cpSync(join(ROOT, "package-lock.json"), join(stage, "package-lock.json"));
  run("npm", ["prune", "--omit=dev", "--offline", "--no-audit", "--no-fund"], stage);
  rmSync(join(stage, "package-lock.json"));
  for (const scope of readdirSync(join(stage, "node_modules")).filter((name) => name.startsWith("@"))) {
    const dir = join(stage, "node_modules", scope);
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }

  writeFileSync(join(stage, "manifest.json"), `${JSON.stringify(bundleManifest(pkg), null, 2)}\n`);
  run(MCPB, ["validate", join(stage, "manifest.json")], ROOT);
  const output = join(outDir, `${pkg.name}-${pkg.version}.mcpb`);
  rmSync(output, { force: true });
  run(MCPB, ["pack", stage, output], ROOT);
  process.stdout.write(`${output}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
