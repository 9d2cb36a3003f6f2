/**
 * getUpdates, called without telegraf's general-purpose client. A flood of 10,000 updates is
 * 100 of these calls back to back, and the other chats' messages wait at Telegram behind all
 * of them: node-fetch's streams, telegraf's payload handling and a zod copy of every update
 * cost about as much bot time per page as everything else (bench/flood.ts). Here: one
 * keep-alive connection, one write per request, the body read whole and parsed once, each
 * update checked for its id and otherwise passed on as sent (parseUpdate checks what it reads).
 */
import http from 'node:http';
import https from 'node:https';
import { TelegramError } from 'telegraf';

/** An update as Telegram sent it: its id checked, the rest read later. */
export type PolledUpdate = Record<string, unknown> & { update_id: number };

export interface PollRequest {
  offset?: number;
  limit: number;
  /** Long-poll timeout, seconds. */
  timeout: number;
  allowed_updates: readonly string[];
}

/** How long past its long-poll timeout an unanswered request is given up (ms). */
const ANSWER_GRACE_MS = 15_000;

function isUpdate(value: unknown): value is PolledUpdate {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const id = (value as { update_id?: unknown }).update_id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

export class UpdatePoller {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(token: string, apiRoot: string) {
    // Resolved as telegraf resolves its own calls, so both reach the same Bot API server.
    this.#url = new URL(`./bot${token}/getUpdates`, apiRoot);
    const secure = this.#url.protocol === 'https:';
    this.#agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.#request = secure ? https.request : http.request;
  }

  /** One getUpdates: the updates, or a TelegramError as telegraf would throw it (401, 409…), or the network's error. */
  fetch(params: PollRequest, signal: AbortSignal): Promise<PolledUpdate[]> {
    const body = JSON.stringify(params);
    return new Promise<PolledUpdate[]>((resolve, reject) => {
      const req = this.#request(
        this.#url,
        { method: 'POST', agent: this.#agent, signal, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve(this.#answer(res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'), params));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.setTimeout(params.timeout * 1000 + ANSWER_GRACE_MS, () => req.destroy(new Error('getUpdates: no answer from the Bot API')));
      req.on('error', reject);
      req.end(body);
    });
  }

  #answer(status: number, statusText: string, text: string, payload: PollRequest): PolledUpdate[] {
    let data: { ok?: unknown; result?: unknown; error_code?: unknown; description?: unknown; parameters?: unknown } | undefined;
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      data = undefined;
    }
    if (data?.ok === true && status < 300) {
      const result = data.result;
      if (!Array.isArray(result) || !result.every(isUpdate)) throw new Error('getUpdates: the Bot API answered something other than a list of updates');
      return result;
    }
    const failed = data && typeof data.error_code === 'number' ? data : { error_code: status, description: statusText || 'no answer' };
    throw new TelegramError(failed as ConstructorParameters<typeof TelegramError>[0], { method: 'getUpdates', payload });
  }

  /** Close the kept-alive connection (the channel has stopped polling). */
  close(): void {
    this.#agent.destroy();
  }
}
