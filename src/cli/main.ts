#!/usr/bin/env node
// The `mac-messages-mcp` command (program.ts). This first module only turns on Node's on-disk compile cache
// where there is one (Node 22.8+; feature-detected, Node 20 has none) before anything else is loaded, so
// that later starts skip compiling the program and its dependencies: most of start-up (docs/performance.md).
import module from "node:module";

try {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // No cache (a read-only temporary folder, say) only means a slower start.
}
await import("./program.js");
