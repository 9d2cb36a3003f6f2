/**
 * Every catalogue key that code names (as opposed to the keys flows/*.yaml name, which flows
 * check follows from the nodes). A Catalogue takes only these keys (TextKey), so the compiler
 * refuses a text used from code that is not declared here, and `kopbot flows check` and
 * start-up refuse flows/messages that lack one of them in any language, pointing at its uses.
 *
 * A key built at run time is declared by writing all its values here: a template literal such
 * as `collectibility.${status}` type-checks only when each value it can take is a TextKey.
 * Grouped by who uses them; test/flows/code-texts.test.ts keeps this list and the code in step.
 */
export const CODE_TEXTS = {
  /** The conversation engine's own replies, outside any node (src/core/engine.ts). */
  engine: [
    'footer',
    'option.invalid',
    'option.later',
    'option.repeat',
    'input.too_long',
    'input.unsupported',
    'error.internal',
    'error.disk_full',
    'session.expired',
    'contact.button',
    'contact.not_own',
    'contact.received',
    'button.stale',
    'group.private_only',
  ],
  /** Member actions (src/core/actions). */
  actions: [
    'privacy.own_data_only',
    'savings.line',
    'savings.tx_header',
    'savings.tx_line',
    'loans.paid_off',
    'loans.due_overdue',
    'loans.due_yesterday',
    'loans.due_today',
    'loans.due_tomorrow',
    'loans.due_soon',
    'loans.no_arrears',
    'loans.unrecorded_payment',
    'loans.arrears',
    'loans.late_fee',
    'loans.item',
    'loans.installment_next',
    'loans.installment_plain',
    'loans.split',
    // `collectibility.${collectibility(days)}` (src/core/loan-status.ts)
    'collectibility.lancar',
    'collectibility.dpk',
    'collectibility.kurang_lancar',
    'collectibility.diragukan',
    'collectibility.macet',
    'rat.agenda_line',
    'rat.title_rat',
    'rat.title_other',
    'rat.attendance_none',
    'rat.attendance_yes',
    'rat.attendance_no',
    'rat.question_new',
    'rat.question_change',
    'rat.none',
    'rat.confirmed_yes',
    'rat.confirmed_no',
    'events.item',
    'identity.member_number_label',
    'complaint.status_line',
    // The cooperative's figures and the member's SHU (src/core/actions/figures.ts)
    'report.change_same',
    'report.change_up',
    'report.change_down',
    'report.members_value',
    'report.loss_value',
    'report.before',
    'report.line',
    // `report.figure.${LABELS[figure]}`
    'report.figure.member_count',
    'report.figure.assets',
    'report.figure.own_capital',
    'report.figure.member_savings',
    'report.figure.loans_outstanding',
    'report.figure.business_volume',
    'report.figure.revenue',
    'report.figure.costs',
    'report.figure.shu',
    'report.figure.npl',
    'report.approved_at_rat',
    'report.uploaded_only',
    'report.compared',
    'report.no_previous',
    'shu.paid_how',
    'shu.paid',
    'shu.unpaid_how',
    'shu.unpaid',
    // The RAT report or invitation (src/core/actions/rat-documents.ts)
    'rat_document.title_report',
    'rat_document.title_invitation',
    'rat_document.book_year',
    'rat_document.next_rat',
    'rat_document.last_rat',
    'rat_document.no_rat',
  ],
  /** What a channel says by itself (src/channels). */
  channels: ['chat.slow_down', 'chat.reply_expired', 'group.open_private', 'call.rejected'],
  /** Business operations' replies and notices (src/domain). */
  domain: [
    'bimtek.accepted',
    'bimtek.waitlisted',
    'bimtek.declined',
    'bimtek.promoted',
    'bimtek.invitation',
    'bimtek.reminder',
    'reminder.when_0',
    'reminder.when_1',
    'reminder.when_n',
    'officer.rat_moved_notice',
    'officer.rat_default_agenda',
    'officer.rat_set_notice',
  ],
  /** Scheduled reminders (src/jobs). */
  jobs: [
    'reminder.rat',
    'reminder.footer',
    'reminder.rat_board',
    'gempur.start',
    'gempur.target',
    'gempur.target_near',
    'gempur.target_missed',
    'gempur.legal',
    'gempur.legal_near',
    'gempur.planned',
    'gempur.not_planned',
    'reminder.installment_before',
    'reminder.installment_today',
    'reminder.installment_late',
    'reminder.installment_footer',
  ],
  /** The engine's replies for the officers' flows, outside any node (role guard, contact for a step). */
  officerEngine: ['officer.share_contact', 'officer.share_contact_step', 'officer.no_role', 'officer.contact_step_resume', 'officer.share_contact_document'],
  /** What the officers' actions word themselves (src/officer/actions.ts); their steps' texts are flows/officer.yaml's. */
  officerActions: [
    'officer.audience_all',
    'officer.audience_type',
    'officer.audience_district',
    'officer.quorum_met',
    'officer.quorum_short',
    'officer.rat_past_limit',
    'bimtek.list_event',
    // A board member's RAT document (src/officer/rat-documents.ts); its outcomes' texts are flows/officer.yaml's
    'officer.document_how_to_report',
    'officer.document_how_to_invitation',
    'rat_document.title_report',
    'rat_document.title_invitation',
    'rat_document.book_year',
  ],
} as const;

/** A catalogue key code may name. */
export type TextKey = (typeof CODE_TEXTS)[keyof typeof CODE_TEXTS][number];

/** Every key code names, each once. */
export const CODE_TEXT_KEYS: readonly TextKey[] = [...new Set(Object.values(CODE_TEXTS).flat())];
