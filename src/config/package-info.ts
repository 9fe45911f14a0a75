// The package's own name and version, read from its package.json so the CLI's --version, the MCP
// serverInfo, server.json and the Claude Desktop bundle can never disagree with what was published.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PackageInfo {
  name: string;
  version: string;
}

/**
 * The nearest package.json above this module: `src/config/` under tsx, `dist/src/config/` when built,
 * `<prefix>/lib/node_modules/mac-messages-mcp/dist/src/config/` when installed.
 */
function findPackageJson(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error("package.json of mac-messages-mcp not found: the installation looks incomplete.");
    }
  }
}

function readPackageInfo(): PackageInfo {
  const parsed = JSON.parse(readFileSync(findPackageJson(), "utf8")) as Partial<PackageInfo>;
  if (typeof parsed.name !== "string" || typeof parsed.version !== "string") {
    throw new Error(
      "package.json of mac-messages-mcp has no name or version: the installation looks broken.",
    );
  }
  return { name: parsed.name, version: parsed.version };
}

export const PACKAGE_INFO: PackageInfo = readPackageInfo();
