/**
 * What the bot does with a text in a state, asked without a database: decide() over the real
 * flows/ (members' and officers'), one table row per rule of today's precedence and per officer
 * step. The engine's executor carries the decisions out (the conversation suites).
 */
import { describe, expect, test } from 'vitest';
import { FLOW_ACTION_NAMES } from '../../src/core/create-engine.ts';
import { decide, readText, RULES, type Decision, type Perception } from '../../src/core/decide.ts';
import { FLOWS_DIR } from '../../src/core/flows/dir.ts';
import { loadFlows } from '../../src/core/flows/load.ts';
import type { OfficerRef } from '../../src/core/ports.ts';
import { NO_ROLES, type Roles } from '../../src/core/roles.ts';
import { tokenize } from '../../src/core/text-match.ts';

const flows = loadFlows(FLOWS_DIR, FLOW_ACTION_NAMES);

const officer = (kind: OfficerRef['kind'], id = 1): OfficerRef => ({ id, name: 'Sugeng', phone: '6281234567890', koperasiId: kind === 'board' ? 1 : null, kind });
const BOARD: Roles = { onFile: true, officers: [officer('board')], proof: 'sender', inSession: true };
const DINAS: Roles = { onFile: true, officers: [officer('dinas', 2)], proof: 'sender', inSession: true };
/** An officer's phone Telegram only remembers: not proven in this session. */
const UNPROVEN: Roles = { onFile: true, officers: [], inSession: false };

function heard(text: string, extra: Partial<Perception> = {}): Perception {
  return { ...readText(flows, text, (t) => tokenize(t, flows.lexicon, flows.emoji)), unsupported: false, member: true, roles: NO_ROLES, ...extra };
}
const at = (node: string | null, expiredWhileWaiting = false) => ({ node, expiredWhileWaiting });
const run = (text: string, node: string | null, extra: Partial<Perception> = {}): Decision => decide(flows, heard(text, extra), at(node));
/** The option a pick decision runs, by its label. */
const picked = (d: Decision) => (d.kind === 'pick' ? d.option.label : `(${d.rule})`);

describe('decide: the members’ precedence, one row per rule', () => {
  const rows: [string, () => Decision, (d: Decision) => void][] = [
    ['contact', () => run('', null, { contact: { phone: '628123', own: false } }), (d) => expect(d.kind).toBe('contact_not_own')],
    ['contact', () => run('', null, { contact: { phone: '628123', own: true } }), (d) => expect(d).toMatchObject({ kind: 'contact_own', keepStep: false })],
    ['unsupported', () => run('', 'rat', { unsupported: true }), (d) => expect(d).toMatchObject({ kind: 'unsupported', menu: 'rat' })],
    ['stale_button', () => run('1', null, { button: { menu: 'rat', key: '1' } }), (d) => expect(d).toMatchObject({ kind: 'stale_button', reopen: 'rat' })],
    ['too_long', () => run('saldo '.repeat(400), null), (d) => expect(d.kind).toBe('too_long')],
    ['menu_word', () => run('english', 'language'), (d) => expect(picked(d)).toBe('language.option_en')],
    ['global', () => run('menu', 'rat'), (d) => expect(d).toMatchObject({ kind: 'go', target: 'main', forgetResume: true })],
    ['global', () => run('bantuam', null), (d) => expect(d).toMatchObject({ kind: 'go', target: 'help' })],
    ['input_escape', () => run('cek saldo dulu', 'complaint'), (d) => expect(d).toMatchObject({ kind: 'go', target: 'savings' })],
    ['input', () => run('setoran saya bulan lalu belum tercatat di buku', 'complaint'), (d) => expect(d).toMatchObject({ kind: 'input', node: 'complaint', switchFirst: false })],
    ['menu_pick', () => run('sy tidak akan hadir', 'rat'), (d) => expect(picked(d)).toBe('rat.option_absent')],
    ['menu_pick', () => run('2', null), (d) => expect(d.kind).toBe('pick')],
    ['doubt', () => run('belum tau nanti sy kabari', 'rat'), (d) => expect(d.kind).toBe('later')],
    ['unclear_answer', () => run('tidak, saya hadir kok', 'rat'), (d) => expect(d).toMatchObject({ kind: 'reask', node: 'rat', say: 'option.repeat' })],
    [
      'named_koperasi',
      () => run('yg di kpri', null, { named: { target: 'koperasi_chosen', vars: { koperasi_name: 'KPRI' } } }),
      (d) => expect(d).toMatchObject({ kind: 'enter', targets: [], switched: { target: 'koperasi_chosen' } }),
    ],
    ['small_talk_at_question', () => run('👍', 'rat'), (d) => expect(d).toMatchObject({ kind: 'reask', node: 'rat' })],
    ['question_at_question', () => run('jam berapa mulainya?', 'rat'), (d) => expect(d).toMatchObject({ kind: 'go', target: 'rat', forgetResume: false })],
    ['request', () => run('cek sldo', null), (d) => expect(d).toMatchObject({ kind: 'enter', targets: ['savings'] })],
    ['request', () => run('saldo dan utang', null), (d) => expect(d).toMatchObject({ kind: 'enter', targets: ['savings', 'loans'] })],
    // The request answers the question its node asks: a decision, not a reply taken back.
    ['request', () => run('insyaallah hadir rat', null), (d) => expect(d).toMatchObject({ kind: 'enter', targets: ['rat'], answer: { node: 'rat', option: { label: 'rat.option_attend' } } })],
    ['other_at_question', () => run('7', 'rat'), (d) => expect(d).toMatchObject({ kind: 'reask', say: 'option.invalid', max: 2 })],
    ['member_number', () => run('004', null, { member: false }), (d) => expect(d).toMatchObject({ kind: 'go', target: 'member_number_given' })],
    ['number_without_menu', () => run('99', null), (d) => expect(d.kind).toBe('main_invalid')],
    ['not_understood', () => run('qwrtzp', null), (d) => expect(d).toMatchObject({ kind: 'not_understood', expired: false })],
    ['not_understood', () => decide(flows, heard('qwrtzp'), at(null, true)), (d) => expect(d).toMatchObject({ kind: 'not_understood', expired: true })],
  ];
  test.each(rows.map(([rule, make, check], i) => ({ rule, make, check, i })))('$rule ($i)', ({ rule, make, check }) => {
    const decision = make();
    expect(decision.rule).toBe(rule);
    check(decision);
  });

  test('every rule of the list is in the table', () => {
    const covered = new Set(rows.map(([rule]) => rule));
    expect(RULES.map((r) => r.name).filter((name) => !covered.has(name) && !name.startsWith('officer'))).toEqual([]);
  });

  test('an activation code that looks like a word is still the code, and "menu" still leaves the code prompt', () => {
    for (const code of ['CFCJ-SURE', 'MENH-J884', 'UANH-Y3UE', 'amsw dena', 'RA8EPXHJ']) {
      expect(run(code, 'code_code', { member: false }), code).toMatchObject({ kind: 'input', node: 'code_code' });
    }
    expect(run('menu', 'code_code', { member: false })).toMatchObject({ kind: 'go', target: 'main' });
    expect(run('cek saldo dulu', 'code_code', { member: false })).toMatchObject({ kind: 'go', target: 'savings' });
  });

  test('an open member question whose verification lapsed is dropped, and the text read afresh', () => {
    const d = run('cek saldo', 'rat', { member: false });
    expect(d).toMatchObject({ dropWaiting: true, kind: 'enter', targets: ['savings'] });
  });

  test('a main-menu button of an earlier message reads on from the main menu', () => {
    const d = run('1', 'rat', { button: { menu: 'main', key: '1' } });
    expect(d.dropWaiting).toBe(true);
    expect(d.kind).toBe('pick');
  });

  test('decide is pure: the same input gives the same decision, and nothing in it is changed', () => {
    const perception = Object.freeze(heard('insyaallah hadir rat'));
    expect(decide(flows, perception, at(null))).toEqual(decide(flows, perception, at(null)));
  });
});

describe('decide: officers and Dinas staff, with the members’ understanding', () => {
  test.each([
    // The examples: words and typos, not digits only.
    { text: 'nggih', node: 'announce_confirm', roles: BOARD, label: 'officer.option_send' },
    { text: 'inggih', node: 'announce_confirm', roles: BOARD, label: 'officer.option_send' },
    { text: 'ya kirim', node: 'announce_confirm', roles: BOARD, label: 'officer.option_send' },
    { text: '1', node: 'announce_confirm', roles: BOARD, label: 'officer.option_send' },
    { text: 'btal', node: 'announce_confirm', roles: BOARD, label: 'officer.option_cancel' },
    { text: 'btal', node: 'rat_move_confirm', roles: BOARD, label: 'officer.option_cancel' },
    { text: 'jangan dikirim', node: 'announce_confirm', roles: BOARD, label: 'officer.option_cancel' },
    { text: 'ya, ubah', node: 'rat_move_confirm', roles: BOARD, label: 'officer.option_move' },
    { text: '2', node: 'rat_move_confirm', roles: BOARD, label: 'officer.option_cancel' },
    { text: 'ya simpan', node: 'rat_set_confirm', roles: BOARD, label: 'officer.option_set' },
    { text: 'kirim', node: 'dinas_confirm', roles: DINAS, label: 'officer.option_send' },
    // The officer menu, by words and by number; numbers count the options this role sees.
    { text: 'rekap rat', node: 'officer_menu', roles: BOARD, label: 'officer.choice.rat_tally' },
    { text: 'siapa yang hadir', node: 'officer_menu', roles: BOARD, label: 'officer.choice.rat_tally' },
    { text: 'jadwal rat', node: 'officer_menu', roles: BOARD, label: 'officer.choice.rat_date' },
    { text: 'pengumuman anggota', node: 'officer_menu', roles: BOARD, label: 'officer.choice.announce' },
    { text: '2', node: 'officer_menu', roles: BOARD, label: 'officer.choice.rat_tally' },
    { text: '1', node: 'officer_menu', roles: DINAS, label: 'officer.choice.dinas_announce' },
    { text: '2', node: 'officer_menu', roles: DINAS, label: 'officer.choice.bimtek_list' },
    { text: 'pesrta bimtek', node: 'officer_menu', roles: DINAS, label: 'officer.choice.bimtek_list' },
  ])('"$text" at $node → $label', ({ text, node, roles, label }) => {
    expect(picked(run(text, node, { roles }))).toBe(label);
  });

  test('a role-dependent menu is answered as it was shown: a role lost meanwhile does not renumber it', () => {
    const BOTH: Roles = { ...BOARD, officers: [officer('board'), officer('dinas', 2)] };
    const shownToBoth = ['officer.choice.announce', 'officer.choice.rat_tally', 'officer.choice.rat_date', 'officer.choice.dinas_announce', 'officer.choice.bimtek_list'];
    // Shown to someone with both roles; answered after the board role was removed: "4" is still the Dinas announcement.
    expect(picked(decide(flows, heard('4', { roles: DINAS }), { node: 'officer_menu', shown: shownToBoth }))).toBe('officer.choice.dinas_announce');
    // "1" is the members' announcement they saw; its node's guard refuses it now (the executor says so).
    expect(picked(decide(flows, heard('1', { roles: DINAS }), { node: 'officer_menu', shown: shownToBoth }))).toBe('officer.choice.announce');
    expect(picked(decide(flows, heard('5', { roles: BOTH }), { node: 'officer_menu', shown: shownToBoth }))).toBe('officer.choice.bimtek_list');
    // Without a record of what was shown, the numbers follow the roles held now.
    expect(picked(run('1', 'officer_menu', { roles: DINAS }))).toBe('officer.choice.dinas_announce');
  });

  test('"👍" or an unclear word at a confirmation asks again; a number past the options says how many there are', () => {
    expect(run('👍', 'announce_confirm', { roles: BOARD })).toMatchObject({ kind: 'reask', node: 'announce_confirm' });
    expect(run('4', 'officer_menu', { roles: DINAS })).toMatchObject({ kind: 'reask', say: 'option.invalid', max: 2 });
    expect(run('4', 'officer_menu', { roles: BOARD })).toMatchObject({ kind: 'reask', say: 'option.invalid', max: 3 });
  });

  test('outside the menu, officers are understood in words; members never reach the officers’ steps', () => {
    expect(run('rekap rat', null, { roles: BOARD })).toMatchObject({ kind: 'enter', targets: ['rat_tally'] });
    expect(run('tolong ubah jadwal rat', null, { roles: BOARD })).toMatchObject({ kind: 'enter', targets: ['rat_date'] });
    expect(run('peserta bimtek', null, { roles: DINAS })).toMatchObject({ kind: 'enter', targets: ['bimtek_list'] });
    expect(run('pengurus', null, { roles: BOARD })).toMatchObject({ kind: 'go', target: 'officer_menu' });
    expect(run('pengurs', null, { roles: BOARD })).toMatchObject({ kind: 'go', target: 'officer_menu' });
    // A member: "rekap rat" is about the RAT, "pengurus" a question for the board.
    expect(run('rekap rat', null)).toMatchObject({ kind: 'enter', targets: ['rat'] });
    expect(run('pengurus', null)).not.toMatchObject({ target: 'officer_menu' });
  });

  test('a board member who is also a member: "rekap simpanan saya" is their savings, "rekp rat" the tally', () => {
    expect(run('rekap simpanan saya', null, { roles: BOARD })).toMatchObject({ kind: 'enter', targets: ['savings'] });
    expect(run('rekp rat', null, { roles: BOARD })).toMatchObject({ kind: 'enter', targets: ['rat_tally'] });
    expect(run('kuorum', null, { roles: BOARD })).toMatchObject({ kind: 'enter', targets: ['rat_tally'] });
  });

  test('where everything typed is the answer, a member command is text; menu, help and cancel still leave', () => {
    expect(run('stop', 'announce', { roles: BOARD })).toMatchObject({ kind: 'input', node: 'announce' });
    expect(run('english', 'dinas_text', { roles: DINAS })).toMatchObject({ kind: 'input', node: 'dinas_text' });
    expect(run('menu', 'announce', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'main' });
    expect(run('bantuan', 'announce', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'help' });
    expect(run('pengurus', 'announce', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'officer_menu' });
    // At a member's prompt, the member commands work as before.
    expect(run('stop', 'complaint')).toMatchObject({ kind: 'go', target: 'announcements_stop' });
  });

  test('an announcement being written takes the text as it is; "batal" cancels the officer step', () => {
    expect(run('Kantor tutup hari Senin', 'announce', { roles: BOARD })).toMatchObject({ kind: 'input', node: 'announce' });
    expect(run('batal', 'announce', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'officer_cancelled' });
    expect(run('ga jadi', 'rat_place', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'officer_cancelled' });
    // At a member's prompt the same word is the members' cancel.
    expect(run('batal', 'complaint')).toMatchObject({ kind: 'go', target: 'cancelled' });
    // An announcement that names one of the officer's own cooperatives is text, not a switch of
    // the membership shown (before_request is the members' request reading).
    const named = { target: 'koperasi_chosen', vars: { koperasi_name: 'KSP Maju' } };
    expect(run('Rapat pengurus KSP Maju ditunda ke Senin', 'announce', { roles: BOARD, named })).toMatchObject({ kind: 'input', node: 'announce', switchFirst: false });
    expect(run('kantor ksp maju', 'rat_place', { roles: BOARD, named })).toMatchObject({ kind: 'input', switchFirst: false });
    expect(run('setoran di ksp maju belum tercatat', 'complaint', { named })).toMatchObject({ kind: 'input', switchFirst: true });
  });

  test('a step whose proof has ended waits for the contact; one whose role has gone ends', () => {
    expect(run('ya', 'announce_confirm', { roles: UNPROVEN })).toMatchObject({ rule: 'officer_step_lapsed', kind: 'share_contact_step' });
    expect(run('ya', 'announce_confirm', { roles: DINAS })).toMatchObject({ rule: 'officer_step_lapsed', kind: 'no_role' });
    expect(run('ya', 'announce_confirm')).toMatchObject({ kind: 'no_role' });
    // The contact shared for it keeps the step.
    expect(run('', 'announce_confirm', { roles: UNPROVEN, contact: { phone: '6281234567890', own: true } })).toMatchObject({ kind: 'contact_own', keepStep: true });
  });

  test('a bare "ya" answers a bimtek invitation only while one waits and no question is open; "bimtek ya" anytime', () => {
    const waiting = new Set(['bimtek_yes', 'bimtek_no']);
    expect(run('ya', null, { roles: BOARD, held: waiting })).toMatchObject({ kind: 'go', target: 'bimtek_yes' });
    expect(run('tidak', null, { roles: BOARD, held: waiting })).toMatchObject({ kind: 'go', target: 'bimtek_no' });
    expect(run('ya', null, { roles: BOARD })).not.toMatchObject({ target: 'bimtek_yes' });
    expect(picked(run('ya', 'rat', { roles: BOARD, held: waiting }))).toBe('rat.option_attend');
    expect(run('bimtek ya', 'rat', { roles: BOARD })).toMatchObject({ kind: 'go', target: 'bimtek_yes_named' });
    expect(run('ya', null, { held: waiting })).not.toMatchObject({ target: 'bimtek_yes' }); // not an officer
  });

  test('a stale officer button asks the question afresh instead of answering it', () => {
    expect(run('1', null, { roles: BOARD, button: { menu: 'announce_confirm', key: '1' } })).toMatchObject({ kind: 'stale_button', reopen: 'announce_confirm' });
    expect(run('1', 'rat_move_confirm', { roles: BOARD, button: { menu: 'announce_confirm', key: '1' } })).toMatchObject({ kind: 'stale_button' });
    // Callback data is the client's: a button naming a step that asks nothing (the send itself) reopens the main menu, never runs it.
    expect(run('1', null, { roles: BOARD, button: { menu: 'announce_send', key: '1' } })).toMatchObject({ kind: 'stale_button', reopen: 'main' });
    expect(run('1', 'announce_confirm', { roles: BOARD, button: { menu: 'rat_move', key: '1' } })).toMatchObject({ kind: 'stale_button', reopen: 'main' });
  });
});
