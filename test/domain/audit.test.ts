/**
 * One audit writer: whichever store writes the row (Prisma on SQLite or PostgreSQL, the SQLite
 * hot path's prepared statement), a phone or NIK in the detail is stored masked, in one shape.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { recordAudit } from '../../src/domain/audit.ts';
import { openDatabase, sqlitePathOf } from '../../src/persistence/database.ts';
import { createAuditStore } from '../../src/persistence/domain-stores.ts';
import { openSqliteHotPath } from '../../src/persistence/sqlite-hot-path.ts';
import { tempDir } from '../helpers/app.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const ENTRY = {
  actor: 'officer:7',
  action: 'rat.move',
  koperasiId: null,
  detail: { via: { channel: 'whatsapp', externalId: '6281234567801@s.whatsapp.net' }, phone: '0812-3456-7801', nik: '3513124509800001', note: 'telepon 081234567801' },
};
const AT = new Date('2026-11-23T03:00:00Z');

function expectMasked(detail: string): void {
  expect(detail).not.toMatch(/\d{8,}/);
  expect(detail).not.toContain('3456-7801');
  expect(JSON.parse(detail)).toMatchObject({ nik: '3513**********01', via: { channel: 'whatsapp' } });
}

describe('audit writer', () => {
  test('Prisma on SQLite and the SQLite hot path store the same masked row', async () => {
    const dir = tempDir('kopbot-audit-');
    const url = `file:${join(dir, 'test.db')}`;
    const db = await openDatabase(url);
    const hot = openSqliteHotPath(sqlitePathOf(url));
    try {
      await recordAudit(createAuditStore(db), ENTRY, AT);
      await recordAudit({ write: hot.audit }, ENTRY, AT);
      const rows = await db.auditLog.findMany({ orderBy: { id: 'asc' } });
      expect(rows).toHaveLength(2);
      expectMasked(rows[0]!.detail);
      expect(rows[1]!.detail).toBe(rows[0]!.detail);
      expect(rows.map((r) => r.at.toISOString())).toEqual([AT.toISOString(), AT.toISOString()]);
    } finally {
      hot.close();
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Prisma on PostgreSQL stores it the same way', async () => {
    const pg = await createTestPostgres();
    const db = await openDatabase(pg.url);
    try {
      await recordAudit(createAuditStore(db), ENTRY, AT);
      const row = await db.auditLog.findFirstOrThrow();
      expectMasked(row.detail);
      expect(row).toMatchObject({ actor: 'officer:7', action: 'rat.move', koperasiId: null, at: AT });
    } finally {
      await db.$disconnect();
      await pg.drop();
    }
  });
});
