// Public face of configuration: where chat.db, Contacts and the state directory are.
export {
  ALLOWED_ATTACHMENT_DIRS_ENV,
  CONTACTS_DIR_ENV,
  ConfigError,
  type DataSource,
  DB_ENV,
  defaultChatDbPath,
  defaultContactsRoot,
  demoNotice,
  expandPath,
  HOME_ENV,
  type PathInputs,
  resolveChatDbPath,
  resolveContactsRoots,
  resolveDataSource,
  resolveSendableDirs,
  resolveStateDir,
} from "./paths.js";
