/**
 * Two `kopbot jobs run-due` processes for the same instant on one database, as two instances'
 * schedulers ticking together: the RAT reminder goes to every active member and the board
 * once, queued by one of them. On SQLite and on PostgreSQL.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/persistence/database.ts';
import { runKopbot } from '../helpers/cli.ts';
import { tempDir, TEST_ACTIVATION_CODE_SECRET } from '../helpers/app.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

describe.each([
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('jobs run-due on $name', ({ postgres }) => {
  test('two processes at the same instant queue the RAT reminder once', async () => {
    const dir = tempDir('kopbot-run-due-');
    const pg = postgres ? await createTestPostgres() : undefined;
    const url = pg?.url ?? `file:${join(dir, 'kopbot.db')}`;
    const env = { DATABASE_URL: url, LOG_LEVEL: 'silent', ...(pg ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {}) };
    try {
      expect((await runKopbot(['seed', '--demo'], env)).code).toBe(0);
      const db = await openDatabase(url);
      try {
        const rat = await db.meeting.findFirstOrThrow({ where: { kind: 'RAT', koperasi: { code: 'KPRI-SEJAHTERA' } } });
        const active = await db.member.count({ where: { koperasiId: rat.koperasiId, status: 'AKTIF' } });
        // An hour before it begins: the one-day reminder is due (08.00 the day before has passed).
        const now = new Date(rat.startsAt.getTime() - 3_600_000).toISOString();
        const runs = await Promise.all([runKopbot(['jobs', 'run-due', '--now', now], env), runKopbot(['jobs', 'run-due', '--now', now], env)]);
        for (const run of runs) expect(run.code, run.stderr).toBe(0);
        const queued = runs.map((run) => Number(/Pengingat RAT: (\d+) pesan diantrekan/.exec(run.stdout)?.[1]));
        expect(queued.sort((a, b) => a - b)).toEqual([0, active + 1]); // one did it all, the other nothing
        expect(await db.outboxMessage.count({ where: { purpose: 'rat_reminder', koperasiId: rat.koperasiId } })).toBe(active);
        expect(await db.outboxMessage.count({ where: { purpose: 'rat_board_reminder' } })).toBe(1);
        expect(await db.jobRun.findMany({ where: { job: 'rat_reminders', occurrence: { contains: `mtg${rat.id}@` } } })).toEqual([
          expect.objectContaining({ queued: active + 1 }),
        ]);
      } finally {
        await db.$disconnect();
      }
    } finally {
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
