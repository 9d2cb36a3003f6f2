/**
 * Reading a JSON request body safely: at most `limitBytes` (a larger body is refused as soon as
 * it is seen to be larger, never buffered), parsed, then checked with a zod schema. Every
 * failure is a 4xx answer for the handler to send, never a throw.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export type BodyResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 413; reason: string };

export function readJsonBody<S extends z.ZodType>(req: IncomingMessage, schema: S, limitBytes: number): Promise<BodyResult<z.infer<S>>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.resolve({ ok: false, status: 413, reason: `body of ${Math.ceil(declared / 1024)} KB` });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult<z.infer<S>>) => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // Stop reading; the answer closes the connection (see refuseRequest).
        req.pause();
        settle({ ok: false, status: 413, reason: `body over ${Math.ceil(limitBytes / 1024)} KB` });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', () => settle({ ok: false, status: 400, reason: 'body not received' }));
    req.once('end', () => {
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        settle({ ok: false, status: 400, reason: 'body is not JSON' });
        return;
      }
      const parsed = schema.safeParse(json);
      settle(parsed.success ? { ok: true, value: parsed.data } : { ok: false, status: 400, reason: `body does not match: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
    });
  });
}

/**
 * Answer a refused request and close its connection, so a body still arriving (one too large
 * to read) is not read at all.
 */
export function refuseRequest(req: IncomingMessage, res: ServerResponse, status: number): void {
  res.once('finish', () => req.destroy());
  if (!res.headersSent) res.writeHead(status, { connection: 'close' });
  res.end();
}
