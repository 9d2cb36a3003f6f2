/**
 * Every log line is masked by content, whatever key an identifier sits under and in the message
 * text itself: our lines, and Baileys' own (its real LID mapping store, logging through the
 * logger the WhatsApp channel hands it: "Invalid LID-PN mapping: 628…", `{ pnUser, lidUser }`,
 * maps keyed by phone).
 */
import { addTransactionCapability, type SignalDataTypeMap } from '@whiskeysockets/baileys';
import { LIDMappingStore } from '@whiskeysockets/baileys/lib/Signal/lid-mapping.js';
import { expect, test } from 'vitest';
import { maskText } from '../../src/logger.ts';
import { captureLogs } from '../helpers/app.ts';

const SITI = '6281234567801';
const AHMAD = '6281234567802';
const SITI_LID = '190000000000001';
const NIK = '3513124509800001';

/** What Baileys keeps in its key store, in memory: the store itself is not what is tested here. */
function memoryKeys() {
  const data = new Map<string, unknown>();
  return {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      return Object.fromEntries(ids.filter((id) => data.has(`${type}:${id}`)).map((id) => [id, data.get(`${type}:${id}`)])) as { [id: string]: SignalDataTypeMap[T] };
    },
    async set(changes: Record<string, Record<string, unknown>>) {
      for (const [type, values] of Object.entries(changes)) for (const [id, value] of Object.entries(values)) value === null ? data.delete(`${type}:${id}`) : data.set(`${type}:${id}`, value);
    },
  };
}

test('Baileys\' own lines and ours carry no phone, JID or NIK, under any key or in the text', async () => {
  const { logs: lines, logger } = captureLogs('trace');
  // As the WhatsApp channel does: a child for the library, at the channel's level.
  const library = logger.child({ channel: 'whatsapp' }).child({ lib: 'baileys' }, { level: 'trace' });
  const keys = addTransactionCapability(memoryKeys() as never, library, { maxCommitRetries: 1, delayBetweenTriesMs: 1 });
  const lids = new LIDMappingStore(keys as never, library as never, async () => undefined);
  await lids.storeLIDPNMappings([{ lid: `${SITI}@s.whatsapp.net`, pn: `${AHMAD}@s.whatsapp.net` }]); // warn: "Invalid LID-PN mapping: …"
  await lids.storeLIDPNMappings([{ lid: `${SITI_LID}@lid`, pn: `${SITI}@s.whatsapp.net` }]); // trace: { pairMap: { phone: lid } }
  await lids.storeLIDPNMappings([{ lid: `${SITI_LID}@lid`, pn: `${SITI}@s.whatsapp.net` }]); // debug: { pnUser, lidUser }
  await lids.getPNForLID(`${SITI_LID}:3@lid`);
  library.child({ jid: `${AHMAD}:12@s.whatsapp.net` }).info({ attrs: { from: `${SITI}@s.whatsapp.net`, participant: `${SITI_LID}@lid` } }, 'recv %s from %s', 'message', `${AHMAD}@s.whatsapp.net`);
  // Ours: a phone as typed, a chat id as a number, a NIK in a sentence, an error quoting a query.
  logger.warn({ note: 'nomor 0812-3456-7801 / +62 812 3456 7802', chat: Number(SITI), detail: { deeper: [{ text: `NIK ${NIK}` }] } }, 'member 0812-3456-7801 wrote');
  logger.error({ err: Object.assign(new Error(`UNIQUE constraint failed: Member.phone = ${SITI}`), { code: 'SQLITE_CONSTRAINT', jid: `${AHMAD}@s.whatsapp.net` }) }, 'import failed');

  const text = lines.join('');
  expect(text).toContain('Invalid LID-PN mapping');
  expect(text).toContain('LID mapping already exists');
  expect(text).toContain('pnUser');
  expect(text).toContain('SQLITE_CONSTRAINT');
  for (const raw of [SITI, AHMAD, SITI_LID, NIK, '81234567801', '0812-3456-7801', '812 3456 7802']) expect(text, raw).not.toContain(raw);
  expect(text).toContain('6281******801@s.whatsapp.net');
  expect(text).toContain('3513**********01');
  // Each line is still JSON a log tool can read.
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
});

test('masking keeps what is not personal: dates, amounts, short numbers', () => {
  expect(maskText('RAT 2027-01-09T02:00:00.000Z, Rp1.250.000, 240 baris, angsuran ke-3')).toBe('RAT 2027-01-09T02:00:00.000Z, Rp1.250.000, 240 baris, angsuran ke-3');
  expect(maskText('6281234567801@s.whatsapp.net')).toBe('6281******801@s.whatsapp.net');
  expect(maskText('120363000000000001@g.us')).toBe('1203******001@g.us');
});

test('masking hides most of every number, and NIKs written in groups', () => {
  // Never fewer than six digits hidden, whatever the length.
  expect(maskText('081234567 0812345678 7099887766')).toBe('******567 0******678 7******766');
  for (const nik of ['3513-1234-5678-0001', '35.13.12.345678.0001', '3513 1234 5678 0001']) expect(maskText(`NIK ${nik} ditolak`)).toBe('NIK 3513**********01 ditolak');
  expect(maskText('jadwal 2026-12-01 10:11:35')).toBe('jadwal 2026-12-01 10:11:35');
});
