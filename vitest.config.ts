import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn the real CLI and build SQLite files; two cores, two workers.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      // The suites whose test apps take the store from KOPBOT_TEST_STORE, once more on
      // PostgreSQL (suites that name their stores, like the conversation ones, run all already).
      // The Telegram and WhatsApp suites run the real service (or channel) on it too.
      {
        extends: true,
        test: {
          name: 'postgresql',
          include: [
            'test/import/*.test.ts',
            'test/whatsapp/whatsapp.test.ts',
            'test/whatsapp/session-and-messages.test.ts',
            'test/telegram/telegram.test.ts',
            'test/telegram/recycled-number.test.ts',
            'test/telegram/send-budget.test.ts',
            'test/telegram/webhook-stop.test.ts',
            'test/telegram/stop-decided.test.ts',
            'test/telegram/rat-documents.test.ts',
            'test/whatsapp/rat-documents.test.ts',
          ],
          env: { KOPBOT_TEST_STORE: 'postgresql' },
        },
      },
    ],
  },
});
