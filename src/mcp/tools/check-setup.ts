// check_setup: what works and what to fix, in plain words.

import { z } from "zod";
import { formatSetupReport, runSetupChecks } from "../core/setup-checks.js";
import { guard, okResult } from "../core/tool-result.js";
import { defineTool } from "../tool-definition.js";

const checkSetupTool = {
  title: "Check setup",
  description:
    "Check what this server can access (Messages database, Contacts, sending through Messages, Node) and how to fix each problem. Use it when another tool reports a permission problem.",
  inputSchema: {},
  outputSchema: {
    ok: z.boolean(),
    checks: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        status: z.enum(["ok", "fail", "skipped", "info"]),
        detail: z.string(),
        fix: z.string().nullable(),
      }),
    ),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const checkSetup = defineTool({
  name: "check_setup",
  permission: "read",
  ...checkSetupTool,
  handler: (_args, { deps }) =>
    guard(async () => {
      const report = await runSetupChecks(deps);
      return okResult(formatSetupReport(report), { ok: report.ok, checks: report.checks });
    }),
});
