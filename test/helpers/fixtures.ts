// Where the read-only shared fixtures live: `../shared/fixtures` beside the checkout (as on the developers'
// machines and in CI's fresh clone), or wherever MAC_MESSAGES_FIXTURES points.
import { resolve } from "node:path";

export const FIXTURES_DIR =
  process.env.MAC_MESSAGES_FIXTURES ?? resolve(import.meta.dirname, "..", "..", "..", "shared", "fixtures");
export const CHATDB_FIXTURES_DIR = resolve(FIXTURES_DIR, "chatdb");
export const EXPORTER_TEST_DB = resolve(CHATDB_FIXTURES_DIR, "imessage-exporter_test.db");
