/**
 * A PostgreSQL database of a test's own on the server this machine runs (127.0.0.1:5432).
 * Each call creates a fresh database and drops it afterwards; `.ci/run` checks the server is up
 * and the role exists. KOPBOT_TEST_POSTGRES names the server and an administrative database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.KOPBOT_TEST_POSTGRES ?? 'postgresql://root@127.0.0.1:5432/postgres';

export interface TestPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database; drop() removes it, closing whatever connections are still open. */
export async function createTestPostgres(prefix = 'kopbot_test'): Promise<TestPostgres> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    url: urlFor(name),
    name,
    drop: () => admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }),
  };
}
