// The conversation view (MCP Apps): draws a show_conversation result as Messages does, pages back and
// searches through show_conversation and search_messages, and replies through send_message, each a
// tools/call the host forwards to this server (so the host's own approval and the server's confirmation
// and scopes apply). It speaks the view side of the MCP Apps protocol (JSON-RPC over postMessage with the
// host) itself, in a few dozen lines, instead of bundling the SDK's App class and its dependencies
// (over 500 KB) into every view.
//
// Safe by construction: every string from a result is other people's text and goes into the page as
// text (textContent, createTextNode, attribute values), never as HTML; the CSP allows no network and
// images only from data: URIs, which are checked to be images before use.
(() => {
  const PROTOCOL_VERSION = "2026-01-26";
  const DATA_KEY = "io.github.mac-messages-mcp/conversation";
  /** Older pages fetched while looking for a message a reply or a search result points at. */
  const MAX_PAGES_TO_FIND = 20;
  const THUMB_SIDE = 220;
  const IMAGE_DATA_URI = /^data:image\/(webp|png|jpeg|gif);base64,[A-Za-z0-9+/]+=*$/;

  const state = {
    chat: null,
    /** id → message, every page loaded so far. */
    messages: new Map(),
    nextCursor: null,
    canSend: false,
    hostTimeZone: null,
    serverTimeZone: null,
    locale: undefined,
    loading: false,
    localCount: 0,
    /** What the host said it supports (ui/initialize). */
    hostCapabilities: {},
  };

  const byId = (id) => document.getElementById(id);

  // ---- the host connection: JSON-RPC 2.0 over postMessage ----------------------------------------------

  let nextRequestId = 1;
  const pending = new Map();

  function post(message) {
    window.parent.postMessage(message, "*");
  }

  function request(method, params) {
    const id = nextRequestId++;
    post({ jsonrpc: "2.0", id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  function notify(method, params) {
    post({ jsonrpc: "2.0", method, params });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (message === null || typeof message !== "object" || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(String(message.error.message ?? "The host refused.")));
      else waiter.resolve(message.result);
      return;
    }
    if (message.id !== undefined) {
      if (message.method === "ui/resource-teardown" || message.method === "ping") {
        post({ jsonrpc: "2.0", id: message.id, result: {} });
      } else {
        post({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
      }
      return;
    }
    if (message.method === "ui/notifications/tool-result") showResult(message.params);
    else if (message.method === "ui/notifications/host-context-changed") applyHostContext(message.params);
    else if (message.method === "ui/notifications/tool-cancelled") setStatus("The call was cancelled.");
    else if (message.method === "ui/notifications/tool-input" && !state.chat) setStatus("Loading…");
  });

  async function callTool(name, args) {
    const result = await request("tools/call", { name, arguments: args });
    if (result === null || typeof result !== "object") throw new Error("The host returned no result.");
    return result;
  }

  function resultText(result) {
    const content = Array.isArray(result?.content) ? result.content : [];
    return content
      .filter((block) => block && block.type === "text")
      .map((block) => String(block.text))
      .join("\n");
  }

  // ---- data from results, checked ------------------------------------------------------------------------

  const str = (value) => (typeof value === "string" ? value : null);
  const num = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);
  const list = (value) => (Array.isArray(value) ? value : []);

  function cleanMessage(raw) {
    if (raw === null || typeof raw !== "object" || num(raw.id) === null || str(raw.date) === null)
      return null;
    const replyTo =
      raw.replyTo && typeof raw.replyTo === "object"
        ? { id: num(raw.replyTo.id), preview: str(raw.replyTo.preview) }
        : null;
    return {
      id: raw.id,
      date: raw.date,
      isFromMe: raw.isFromMe === true,
      from: str(raw.from) ?? "Unknown sender",
      service: str(raw.service) ?? "iMessage",
      text: str(raw.text),
      event: str(raw.event),
      tapbacks: list(raw.tapbacks).map((t) => ({ emoji: str(t?.emoji) ?? "?", from: str(t?.from) ?? "" })),
      replyTo,
      isEdited: raw.isEdited === true,
      isUnsent: raw.isUnsent === true,
      attachments: list(raw.attachments).map((a) => ({
        name: str(a?.name),
        mimeType: str(a?.mimeType),
        sizeBytes: num(a?.sizeBytes) ?? 0,
        isSticker: a?.isSticker === true,
        thumbnail:
          a?.thumbnail && IMAGE_DATA_URI.test(str(a.thumbnail.src) ?? "")
            ? {
                src: a.thumbnail.src,
                width: num(a.thumbnail.width) ?? 0,
                height: num(a.thumbnail.height) ?? 0,
              }
            : null,
      })),
    };
  }

  /** The conversation data of a show_conversation result, or null (an error, or another tool's result). */
  function viewData(result) {
    const data = result?._meta?.[DATA_KEY];
    if (!data || typeof data !== "object" || !data.chat || num(data.chat.id) === null) return null;
    return data;
  }

  function addMessages(data) {
    for (const raw of list(data.messages)) {
      const message = cleanMessage(raw);
      if (message) state.messages.set(message.id, message);
    }
    state.nextCursor = str(data.nextCursor);
  }

  // ---- time, in the user's time zone ---------------------------------------------------------------------

  let formats = null;
  function formatters() {
    if (formats) return formats;
    const make = (options) => {
      const timeZone = state.hostTimeZone ?? state.serverTimeZone ?? undefined;
      try {
        return new Intl.DateTimeFormat(state.locale, { ...options, timeZone });
      } catch {
        return new Intl.DateTimeFormat(undefined, options);
      }
    };
    formats = {
      day: make({ year: "numeric", month: "2-digit", day: "2-digit" }),
      dayLabel: make({ weekday: "long", year: "numeric", month: "long", day: "numeric" }),
      time: make({ hour: "2-digit", minute: "2-digit" }),
      short: make({ month: "short", day: "numeric" }),
    };
    return formats;
  }

  // ---- drawing -------------------------------------------------------------------------------------------

  /** An element with properties set and children appended as nodes or as text (never parsed as HTML). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key.startsWith("aria-") || key === "role") node.setAttribute(key, String(value));
      else node[key] = value;
    }
    node.append(...children);
    return node;
  }

  function serviceClass(service) {
    const name = String(service).toLowerCase();
    return name === "sms" ? "svc-sms" : name === "rcs" ? "svc-rcs" : "svc-imessage";
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  function attachmentNode(attachment) {
    const name = attachment.name ?? attachment.mimeType ?? "Attachment";
    if (attachment.thumbnail) {
      const { width, height } = attachment.thumbnail;
      const scale = Math.min(1, THUMB_SIDE / Math.max(width, height, 1));
      return el("img", {
        className: "thumb",
        src: attachment.thumbnail.src,
        width: Math.max(1, Math.round(width * scale)),
        height: Math.max(1, Math.round(height * scale)),
        alt: attachment.isSticker ? `Sticker: ${name}` : `Photo: ${name}`,
      });
    }
    const icon = (attachment.mimeType ?? "").startsWith("image/") ? "🖼" : "📄";
    return el("span", { className: "chip" }, `${icon} ${name} · ${formatSize(attachment.sizeBytes)}`);
  }

  function bubbleRow(message, showSender) {
    const date = new Date(message.date);
    const time = formatters().time.format(date);
    const row = el("div", { className: `row ${message.isFromMe ? "me" : "them"}` });
    if (state.chat?.isGroup && !message.isFromMe && showSender) {
      row.append(el("div", { className: "sender" }, message.from));
    }
    const colour = message.isFromMe ? serviceClass(message.service) : "incoming";
    const bubble = el("div", {
      className: `bubble ${message.isUnsent && !message.text ? "unsent" : colour}`,
      id: `m-${message.id}`,
      tabIndex: -1,
    });
    bubble.dataset.id = String(message.id);
    bubble.append(el("span", { className: "sr" }, `${message.from}, ${time}: `));
    if (message.replyTo) {
      const target = message.replyTo.id;
      const words = message.replyTo.preview ?? "an earlier message";
      const link = el(
        "button",
        { type: "button", className: "reply-link", "aria-label": `In reply to: ${words}` },
        `↩ ${words}`,
      );
      link.dataset.replyTo = target === null ? "" : String(target);
      if (target === null) link.disabled = true;
      else link.addEventListener("click", () => void jumpTo(target));
      bubble.append(link);
    }
    if (message.isUnsent && !message.text) {
      bubble.append(
        el(
          "p",
          { className: "text" },
          message.isFromMe ? "You unsent a message" : `${message.from} unsent a message`,
        ),
      );
    } else if (message.text) {
      bubble.append(el("p", { className: "text" }, message.text));
    }
    for (const attachment of message.attachments) bubble.append(attachmentNode(attachment));
    if (!message.text && !message.isUnsent && message.attachments.length === 0) {
      bubble.append(el("p", { className: "text" }, "(no text)"));
    }
    if (message.tapbacks.length > 0) {
      const tapbacks = el("ul", { className: "tapbacks", "aria-label": "Reactions" });
      for (const tapback of message.tapbacks) {
        tapbacks.append(
          el(
            "li",
            {
              title: `${tapback.emoji} ${tapback.from}`,
              "aria-label": `${tapback.emoji} from ${tapback.from}`,
            },
            tapback.emoji,
          ),
        );
      }
      bubble.append(tapbacks);
      row.classList.add("has-tapbacks");
    }
    row.append(bubble);
    const notes = [time];
    if (message.isEdited) notes.push("Edited");
    if (message.isUnsent && message.text) notes.push("Partly unsent");
    if (message.service !== "iMessage") notes.push(message.service);
    if (message.local) notes.push(message.local);
    row.append(el("div", { className: "meta" }, notes.join(" · ")));
    if (message.local) bubble.classList.add("pending");
    return row;
  }

  function sortedMessages() {
    return [...state.messages.values()].sort((a, b) =>
      a.date < b.date ? -1 : a.date > b.date ? 1 : String(a.id).localeCompare(String(b.id)),
    );
  }

  function render() {
    const { day, dayLabel } = formatters();
    const out = document.createDocumentFragment();
    let lastDay = null;
    let lastSender = null;
    for (const message of sortedMessages()) {
      const date = new Date(message.date);
      const key = day.format(date);
      if (key !== lastDay) {
        out.append(el("div", { className: "day", role: "separator" }, dayLabel.format(date)));
        lastDay = key;
        lastSender = null;
      }
      if (message.event) {
        out.append(el("div", { className: "event" }, `${message.from} ${message.event}`));
        lastSender = null;
        continue;
      }
      out.append(bubbleRow(message, message.from !== lastSender));
      lastSender = message.from;
    }
    if (state.messages.size === 0) out.append(el("p", { className: "event" }, "No messages in this chat."));
    byId("messages").replaceChildren(out);
    byId("earlier").hidden = state.nextCursor === null;
  }

  function setStatus(text) {
    byId("status").textContent = text;
  }

  // ---- results, paging, search, reply -------------------------------------------------------------------

  function showResult(result) {
    const data = viewData(result);
    if (!data) {
      setStatus(result?.isError ? resultText(result) : "This result holds no conversation.");
      document.body.dataset.ready = "error";
      return;
    }
    state.chat = {
      id: data.chat.id,
      ref: str(data.chat.ref) ?? `chat:${data.chat.id}`,
      name: str(data.chat.name) ?? "Conversation",
      isGroup: data.chat.isGroup === true,
      service: str(data.chat.service) ?? "iMessage",
    };
    state.canSend = data.canSend === true;
    state.serverTimeZone = str(data.timeZone);
    formats = null;
    state.messages.clear();
    addMessages(data);
    byId("chat-name").textContent = state.chat.name;
    const badge = byId("service");
    badge.textContent = state.chat.service;
    badge.className = `service-badge ${serviceClass(state.chat.service)}`;
    badge.hidden = false;
    byId("composer").hidden = !state.canSend;
    setStatus("");
    byId("reply").setAttribute("aria-label", `Message to ${state.chat.name}`);
    render();
    const thread = byId("thread");
    thread.scrollTop = thread.scrollHeight;
    document.body.dataset.ready = "true";
  }

  async function loadEarlier() {
    if (state.loading || state.nextCursor === null || !state.chat) return false;
    state.loading = true;
    byId("earlier").disabled = true;
    const thread = byId("thread");
    const fromBottom = thread.scrollHeight - thread.scrollTop;
    try {
      const result = await callTool("show_conversation", { chat: state.chat.ref, cursor: state.nextCursor });
      const data = viewData(result);
      if (!data) {
        setStatus(resultText(result) || "Could not load earlier messages.");
        return false;
      }
      addMessages(data);
      render();
      thread.scrollTop = thread.scrollHeight - fromBottom;
      return true;
    } catch (error) {
      setStatus(`Could not load earlier messages: ${error.message}`);
      return false;
    } finally {
      state.loading = false;
      byId("earlier").disabled = false;
    }
  }

  async function jumpTo(id) {
    for (let page = 0; !state.messages.has(id) && page < MAX_PAGES_TO_FIND; page++) {
      if (!(await loadEarlier())) break;
    }
    const bubble = byId(`m-${id}`);
    if (!bubble) {
      setStatus("That message is not in this conversation's history.");
      return;
    }
    bubble.scrollIntoView({ block: "center" });
    bubble.classList.add("flash");
    setTimeout(() => bubble.classList.remove("flash"), 1600);
    bubble.focus();
  }

  async function search(query) {
    const results = byId("results");
    if (!state.chat || query.trim() === "") return;
    setStatus("Searching…");
    try {
      const result = await callTool("search_messages", {
        query,
        chat: state.chat.ref,
        limit: 20,
        format: "json",
      });
      if (result.isError) {
        setStatus(resultText(result));
        return;
      }
      const found = list(result.structuredContent?.messages).map(cleanMessage).filter(Boolean);
      const items = found.map((message) => {
        const when = formatters().short.format(new Date(message.date));
        const button = el(
          "button",
          { type: "button" },
          el("span", { className: "when" }, when),
          `${message.from}: ${message.text ?? "(no text)"}`,
        );
        button.addEventListener("click", () => void jumpTo(message.id));
        return el("li", {}, button);
      });
      results.replaceChildren(...items);
      results.hidden = false;
      byId("search-clear").hidden = false;
      setStatus(found.length === 0 ? "No messages found." : `${found.length} found.`);
    } catch (error) {
      setStatus(`Search failed: ${error.message}`);
    }
  }

  async function send() {
    const box = byId("reply");
    const text = box.value;
    if (!state.chat || !state.canSend || text.trim() === "") return;
    box.disabled = true;
    byId("send").disabled = true;
    setStatus("Sending…");
    const started = new Date(Date.now() - 60_000).toISOString();
    try {
      const result = await callTool("send_message", { recipient: state.chat.ref, text, confirm: true });
      const words = resultText(result);
      if (result.isError) {
        setStatus(words || "Not sent.");
      } else if (words.startsWith("Not sent")) {
        setStatus("Not sent: you declined.");
      } else {
        state.localCount += 1;
        const id = `local-${state.localCount}`;
        state.messages.set(id, {
          id,
          date: new Date().toISOString(),
          isFromMe: true,
          from: "Me",
          service: state.chat.service,
          text,
          event: null,
          tapbacks: [],
          replyTo: null,
          isEdited: false,
          isUnsent: false,
          attachments: [],
          local: "Sent",
        });
        box.value = "";
        render();
        byId("thread").scrollTop = byId("thread").scrollHeight;
        setStatus("Sent.");
        tellModel(text);
        void refreshNewest(id, text, started);
      }
    } catch (error) {
      setStatus(`Not sent: ${error.message}`);
    } finally {
      box.disabled = false;
      byId("send").disabled = false;
      box.focus();
    }
  }

  /**
   * The model did not see this send (the person typed it here), so the conversation it is part of learns of
   * it, where the host takes context updates. Only the person's own words and the chat's ref: no other
   * people's text goes to the model this way.
   */
  function tellModel(text) {
    if (!state.hostCapabilities?.updateModelContext?.text) return;
    const words = `In the conversation view, the user sent this message to ${state.chat.ref}: ${JSON.stringify(text)}`;
    request("ui/update-model-context", { content: [{ type: "text", text: words }] }).catch(() => {});
  }

  /**
   * After a send: the newest page again, so the message appears as Messages stored it; the local bubble
   * goes once a message of mine with the same text, sent since, is there.
   */
  async function refreshNewest(localId, text, since) {
    try {
      const data = viewData(await callTool("show_conversation", { chat: state.chat.ref }));
      if (!data) return;
      const cursor = state.nextCursor;
      addMessages(data);
      // The older pages already loaded continue where they did.
      state.nextCursor = cursor;
      const stored = list(data.messages).some(
        (m) => m?.isFromMe === true && m.text === text && m.date >= since,
      );
      if (stored) state.messages.delete(localId);
      render();
      byId("thread").scrollTop = byId("thread").scrollHeight;
    } catch {
      // The local bubble stays; the send itself succeeded.
    }
  }

  // ---- host context: theme, time zone, locale ----------------------------------------------------------

  function applyHostContext(context) {
    if (!context || typeof context !== "object") return;
    if (context.theme === "dark" || context.theme === "light") {
      document.documentElement.dataset.theme = context.theme;
    }
    if (str(context.timeZone)) state.hostTimeZone = context.timeZone;
    if (str(context.locale)) state.locale = context.locale;
    formats = null;
    if (state.chat) render();
  }

  // ---- wiring ------------------------------------------------------------------------------------------

  document.documentElement.dataset.theme = window.matchMedia?.("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";

  byId("earlier").addEventListener("click", () => void loadEarlier());
  byId("thread").addEventListener("scroll", () => {
    if (byId("thread").scrollTop < 24) void loadEarlier();
  });
  // No <form>s: hosts sandbox views without allow-forms, where a submit never fires; Enter and the
  // buttons are wired directly instead.
  byId("search-button").addEventListener("click", () => void search(byId("search-input").value));
  byId("search-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      void search(byId("search-input").value);
    }
  });
  byId("search-clear").addEventListener("click", () => {
    byId("results").replaceChildren();
    byId("results").hidden = true;
    byId("search-clear").hidden = true;
    byId("search-input").value = "";
    setStatus("");
  });
  byId("send").addEventListener("click", () => void send());
  byId("reply").addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line (as in Messages); not while an input method composes.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  });

  // The content's own height (the body's box), not the document's, which is never less than the frame: so
  // a short chat gets a short frame and the host can shrink it again.
  const reportSize = () =>
    notify("ui/notifications/size-changed", {
      width: Math.ceil(document.documentElement.scrollWidth),
      height: Math.ceil(document.body.getBoundingClientRect().height),
    });
  new ResizeObserver(reportSize).observe(document.body);

  request("ui/initialize", {
    appInfo: { name: "mac-messages-mcp conversation", version: "1.0.0" },
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: PROTOCOL_VERSION,
  })
    .then((result) => {
      state.hostCapabilities = result?.hostCapabilities ?? {};
      applyHostContext(result?.hostContext);
      notify("ui/notifications/initialized", {});
    })
    .catch((error) => setStatus(`The host did not answer: ${error.message}`));
})();
