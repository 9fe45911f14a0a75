// Public face of configuration: where chat.db, Contacts and the state directory are.
export {
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
  resolveStateDir,
} from "./paths.js";
