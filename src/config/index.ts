// Public face of configuration: where chat.db, Contacts and the state directory are.

export { PACKAGE_INFO, type PackageInfo } from "./package-info.js";
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
export { READ_ONLY_ENV, resolveReadOnly } from "./read-only.js";
