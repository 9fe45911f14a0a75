// AppleScript programs for Messages and Contacts. They are fixed text: every value that came from a
// user arrives through `on run argv` (see osascript.ts), never by building source from strings.
//
// Messages' dictionary changed in macOS 11: `service`/`buddy` became `account`/`participant`.
// Each Messages script comes in a "modern" form and a "legacy" form; the sender runs the modern one
// and runs the legacy one only when the modern one does not compile (an older Messages that lacks
// the new terms). Both forms are whole programs because AppleScript resolves an app's terms when it
// compiles, so a `try` inside one script could not catch a term that does not exist.

export type MessagesService = "iMessage" | "SMS";
export type ScriptDialect = "modern" | "legacy";

/**
 * Chooses the account/service of one type. `service` is one of two constants, never user data, so
 * writing it into the source is safe; it also keeps one program per service, which makes logs and
 * tests say plainly which service was tried.
 */
function accountLookup(service: MessagesService, dialect: ScriptDialect): string {
  return dialect === "modern"
    ? `set targetAccount to first account whose service type = ${service}`
    : `set targetAccount to first service whose service type = ${service}`;
}

function recipientLookup(dialect: ScriptDialect): string {
  return dialect === "modern"
    ? "set targetRecipient to participant recipientHandle of targetAccount"
    : "set targetRecipient to buddy recipientHandle of targetAccount";
}

/** argv: recipient handle (phone number or email), message text. */
function sendTextToHandleScript(service: MessagesService, dialect: ScriptDialect): string {
  return `on run argv
	set recipientHandle to item 1 of argv
	set messageText to item 2 of argv
	tell application "Messages"
		${accountLookup(service, dialect)}
		${recipientLookup(dialect)}
		send messageText to targetRecipient
	end tell
	return "sent"
end run
`;
}

/** argv: recipient handle, absolute POSIX path of the file. iMessage only: SMS cannot carry files this way. */
function sendFileToHandleScript(dialect: ScriptDialect): string {
  return `on run argv
	set recipientHandle to item 1 of argv
	-- Made outside the tell block so that "POSIX file" is AppleScript's, not a Messages term.
	set attachmentFile to POSIX file (item 2 of argv)
	tell application "Messages"
		${accountLookup("iMessage", dialect)}
		${recipientLookup(dialect)}
		send attachmentFile to targetRecipient
	end tell
	return "sent"
end run
`;
}

export const SEND_TEXT_TO_HANDLE: Readonly<Record<ScriptDialect, Readonly<Record<MessagesService, string>>>> =
  {
    modern: {
      iMessage: sendTextToHandleScript("iMessage", "modern"),
      SMS: sendTextToHandleScript("SMS", "modern"),
    },
    legacy: {
      iMessage: sendTextToHandleScript("iMessage", "legacy"),
      SMS: sendTextToHandleScript("SMS", "legacy"),
    },
  };

export const SEND_FILE_TO_HANDLE: Readonly<Record<ScriptDialect, string>> = {
  modern: sendFileToHandleScript("modern"),
  legacy: sendFileToHandleScript("legacy"),
};

/** argv: chat guid as in chat.db (`iMessage;-;+15551234567`, `any;+;chat123…`), message text. Same in all dialects. */
export const SEND_TEXT_TO_CHAT = `on run argv
	set chatGuid to item 1 of argv
	set messageText to item 2 of argv
	tell application "Messages"
		send messageText to chat id chatGuid
	end tell
	return "sent"
end run
`;

/** argv: chat guid, absolute POSIX path of the file. */
export const SEND_FILE_TO_CHAT = `on run argv
	set chatGuid to item 1 of argv
	set attachmentFile to POSIX file (item 2 of argv)
	tell application "Messages"
		send attachmentFile to chat id chatGuid
	end tell
	return "sent"
end run
`;

/** A harmless read: which services Messages is signed in to. Prints e.g. `iMessage, SMS`. */
export const PROBE_MESSAGES: Readonly<Record<ScriptDialect, string>> = {
  modern: `tell application "Messages" to get service type of every account
`,
  legacy: `tell application "Messages" to get service type of every service
`,
};

/**
 * argv: first name, last name, phone, email ("" for absent ones). Prints the new contact's id.
 * `save` is needed: Contacts keeps scripted changes unsaved until told.
 */
export const CREATE_CONTACT = `on run argv
	set firstName to item 1 of argv
	set lastName to item 2 of argv
	set phoneNumber to item 3 of argv
	set emailAddress to item 4 of argv
	tell application "Contacts"
		set newPerson to make new person with properties {first name:firstName}
		if lastName is not "" then set last name of newPerson to lastName
		if phoneNumber is not "" then make new phone at end of phones of newPerson with properties {label:"mobile", value:phoneNumber}
		if emailAddress is not "" then make new email at end of emails of newPerson with properties {label:"home", value:emailAddress}
		save
		return id of newPerson
	end tell
end run
`;
