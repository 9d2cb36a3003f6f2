/**
 * The one error a business operation throws when it refuses: a stable code for programs (the
 * CLI's exit, the web console's answer, a test) and one plain Indonesian sentence for people.
 * The desk and the CLI show the sentence as it is; anything else is a fault, not a refusal.
 */
export type DomainErrorCode =
  | 'koperasi_unknown'
  | 'member_unknown'
  | 'member_not_usable'
  | 'announcement_empty'
  | 'announcement_too_long'
  | 'send_time_invalid'
  | 'meeting_unknown'
  | 'meeting_in_past'
  | 'report_filter_invalid'
  | 'district_unknown'
  | 'document_empty'
  | 'document_too_large'
  | 'document_type';

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
