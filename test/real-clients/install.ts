// Installs the pinned test-only real clients (see test/helpers/real-clients.ts); run by scripts/test.sh.
//   node --import tsx test/real-clients/install.ts
// Quick when they are already installed: it only reads the install's stamp file.
import { installRealClients } from "../helpers/real-clients.js";

try {
  const clients = installRealClients((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(
    `Real clients ready: ${Object.entries(clients.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}\n`,
  );
} catch (error) {
  process.stderr.write(
    `Could not install the real clients for the tests: ${error instanceof Error ? error.message : error}\n`,
  );
  process.exitCode = 1;
}
