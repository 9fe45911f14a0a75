// How to give this server the macOS permission it most often lacks, said once: the Messages store, the
// Contacts store and check_setup/doctor all quote this text.

/** The fix for "permission denied" on chat.db or the AddressBook (both are behind Full Disk Access). */
export const FULL_DISK_ACCESS_FIX =
  "System Settings → Privacy & Security → Full Disk Access → add the app that runs this server (your terminal " +
  "such as Terminal or iTerm, Claude, or the node binary), switch it on, then restart that app.";
