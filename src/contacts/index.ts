// Public face of the Contacts layer: the store, plus the normalisation every layer compares handles with.
export { decodeLabel, encodeLabel } from "./labels.js";
export {
  type CountryCode,
  classifyHandle,
  defaultRegion,
  handleKey,
  normalizeEmail,
  normalizePhone,
  resolveDefaultRegion,
} from "./phone.js";
export { searchScore } from "./search.js";
export {
  type Contact,
  type ContactSearchResult,
  type ContactsSourceStatus,
  type ContactsStatus,
  ContactsStore,
  type ContactsStoreOptions,
  type ContactValue,
  defaultAddressBookRoot,
  describeOpenError,
  isPermissionError,
} from "./store.js";
