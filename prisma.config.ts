// Prisma CLI configuration. Prisma 6.19 runs its schema engine as WebAssembly through the
// better-sqlite3 driver adapter, so no engine binary is downloaded (Prisma 7 cannot run offline; 6.19 with engine "js" can).
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const url = process.env.DATABASE_URL ?? 'file:./data/koperasi.db';
process.env.DATABASE_URL = url;
// The adapter opens the file even for `migrate diff`; its folder must exist.
if (url.startsWith('file:')) mkdirSync(dirname(url.slice('file:'.length)), { recursive: true });

export default defineConfig({
  schema: 'prisma/schema.prisma',
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaBetterSQLite3({ url }),
});
