/** The named actions flows can call. A flow referring to a name not listed here fails `flows check`. */
import type { Action } from './types.ts';
import { checkActivationCode, chooseCodeKoperasi, chooseKoperasi, listCodeChoices, followNamedKoperasi, greet, probeNamedKoperasi, listChoices, rememberMemberNumber, resolveIdentity, switchKoperasi } from './identity.ts';
import { eventsUpcoming, loanSummary, ratConfirm, ratUpcoming, savingsSummary } from './member-data.ts';
import { memberShu, reportCard } from './figures.ts';
import { sendRatDocument } from './rat-documents.ts';
import { announcementStatus, complaintFromMessage, complaintStatus, fileComplaint, ratingFromMessage, saveRating, setAnnouncements, setInstallmentReminders, setLanguage, setTopic } from './feedback.ts';

export const ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
  ['identity.resolve', resolveIdentity],
  ['identity.greet', greet],
  ['identity.list_choices', listChoices],
  ['identity.choose', chooseKoperasi],
  ['identity.remember_member_number', rememberMemberNumber],
  ['identity.check_code', checkActivationCode],
  ['identity.list_code_choices', listCodeChoices],
  ['identity.choose_code_koperasi', chooseCodeKoperasi],
  ['identity.switch', switchKoperasi],
  ['identity.follow_named_koperasi', followNamedKoperasi],
  ['complaint.from_message', complaintFromMessage],
  ['complaint.status', complaintStatus],
  ['rating.from_message', ratingFromMessage],
  ['savings.summary', savingsSummary],
  ['loans.summary', loanSummary],
  ['figures.report', reportCard],
  ['figures.shu', memberShu],
  ['rat.upcoming', ratUpcoming],
  ['rat.confirm', ratConfirm],
  ['rat.document', sendRatDocument],
  ['events.upcoming', eventsUpcoming],
  ['complaint.file', fileComplaint],
  ['rating.save', saveRating],
  ['announcements.status', announcementStatus],
  ['announcements.set', setAnnouncements],
  ['language.set', setLanguage],
  ['reminders.installments', setInstallmentReminders],
  ['topics.set', setTopic],
]);

export const ACTION_NAMES: ReadonlySet<string> = new Set(ACTIONS.keys());

/** The actions whose effect must not happen twice: each adds a row or spends something (see EngineOptions.onceOnly). */
export const ONCE_ONLY_ACTIONS: ReadonlySet<string> = new Set(['complaint.from_message', 'complaint.file', 'rating.from_message', 'rating.save', 'identity.check_code']);

/** Read-only twins of actions (see EngineOptions.probes): settings.before_request is perceived with one. */
export const ACTION_PROBES: ReadonlyMap<string, Action> = new Map<string, Action>([['identity.follow_named_koperasi', probeNamedKoperasi]]);
