// Public face of the audit trail (sends, OAuth grants and revocations).
export {
  AUDIT_KEY_FILE,
  AUDIT_LOG_FILE,
  AUDIT_TEXT_ENV,
  type AuditEvent,
  type AuditEventKind,
  AuditLog,
  type AuditLogOptions,
  auditLogPath,
  readRecentSendLines,
  recoverInterruptedSends,
  type SendLine,
  type SendPhase,
  type SendVia,
  type TokenRevocationReason,
} from "./audit-log.js";
