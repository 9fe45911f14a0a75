/// <reference lib="dom" />
// The test host's page script (bundled for the browser by host-page.ts): the MCP Apps extension's own host
// bridge (AppBridge over its PostMessageTransport) driving our view in a sandboxed iframe, as Claude,
// VS Code and other hosts do. Tool calls from the view go to the test through an exposed function, which
// forwards them to our server over the transport under test (stdio or remote /mcp).
import type { CallToolResult } from "@modelcontextprotocol/client";
import type { McpUiHostContext } from "@modelcontextprotocol/ext-apps/app-bridge";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

export interface MountOptions {
  html: string;
  toolInput: Record<string, unknown>;
  toolResult: CallToolResult;
  hostContext: McpUiHostContext;
  width: number;
}

declare global {
  interface Window {
    /** Exposed by the test: forwards a tools/call to the server. */
    hostCallTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<CallToolResult>;
    mountView(options: MountOptions): Promise<void>;
    setHostContext(context: McpUiHostContext): void;
    /** What the host saw: the view's initialize, tool calls, size changes, stray (non-protocol) messages. */
    hostLog: {
      initialized: boolean;
      toolCalls: string[];
      sizes: number[];
      stray: unknown[];
      /** Text the view added to the model's context (ui/update-model-context). */
      modelContext: string[];
    };
  }
}

window.hostLog = { initialized: false, toolCalls: [], sizes: [], stray: [], modelContext: [] };
let bridge: AppBridge | undefined;

window.addEventListener("message", (event) => {
  const data = event.data as { jsonrpc?: unknown } | null;
  if (data === null || typeof data !== "object" || data.jsonrpc !== "2.0") window.hostLog.stray.push(data);
});

window.mountView = async (options) => {
  const iframe = document.createElement("iframe");
  // Scripts only: an opaque origin, no same-origin access to the host, as MCP Apps hosts sandbox views.
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.title = "Conversation view";
  iframe.style.width = `${options.width}px`;
  iframe.style.height = "560px";
  iframe.style.border = "1px solid #ccc";
  document.body.append(iframe);
  const view = iframe.contentWindow;
  if (!view) throw new Error("no iframe window");
  bridge = new AppBridge(
    null,
    { name: "apps-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {}, updateModelContext: { text: {} } },
    { hostContext: options.hostContext },
  );
  bridge.oncalltool = async (params) => {
    window.hostLog.toolCalls.push(params.name);
    return await window.hostCallTool({ name: params.name, arguments: params.arguments });
  };
  bridge.onupdatemodelcontext = async ({ content }) => {
    for (const block of content ?? [])
      if (block.type === "text") window.hostLog.modelContext.push(block.text);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height === undefined) return;
    window.hostLog.sizes.push(height);
    iframe.style.height = `${Math.min(Math.max(height, 200), 900)}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge!.oninitialized = () => {
      window.hostLog.initialized = true;
      void bridge!.sendToolInput({ arguments: options.toolInput });
      void bridge!.sendToolResult(options.toolResult);
      resolve();
    };
  });
  // Connected before the document loads, so the view's first message (ui/initialize) is heard.
  await bridge.connect(new PostMessageTransport(view, view));
  iframe.srcdoc = options.html;
  await initialized;
};

window.setHostContext = (context) => bridge?.setHostContext(context);
