/**
 * RAT documents on the service's HTTP server: GET /dokumen/<token> answers the document's bytes.
 * The token is the unguessable part of the link the terminal channel shows a verified member
 * (32 random characters, a new one whenever the file is replaced); anything else is 404, with
 * no hint whether a document exists.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Domain } from '../domain/ports.ts';
import { ratDocumentContent } from '../domain/rat-documents.ts';

export const DOCUMENT_PATH = '/dokumen/';

/** The web link of a document, on the service at `baseUrl` (http://HOST:PORT). */
export function documentLink(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${DOCUMENT_PATH}${token}`;
}

/** The service's own address for links: HOST (127.0.0.1 when unset or every interface) and PORT. */
export function serviceBaseUrl(config: { HOST?: string | undefined; PORT: number }): string {
  const host = !config.HOST || config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

export function isDocumentRequest(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.url ?? '').startsWith(DOCUMENT_PATH);
}

/** A filename for Content-Disposition: ASCII fallback plus the UTF-8 form (RFC 6266). */
function disposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export async function serveDocument(req: IncomingMessage, res: ServerResponse, domain: Pick<Domain, 'documents'>): Promise<void> {
  const token = decodeURIComponent((req.url ?? '').slice(DOCUMENT_PATH.length).split(/[?#]/)[0] ?? '');
  const found = await ratDocumentContent(domain, { token });
  if (!found) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end('Dokumen tidak ditemukan. Minta tautan baru lewat chat: ketik "laporan rat" atau "undangan rat".\n');
    return;
  }
  res.writeHead(200, {
    'content-type': found.document.mimeType,
    'content-length': String(found.bytes.length),
    'content-disposition': disposition(found.document.fileName),
    // Members' documents: not kept by a shared cache, not read as anything but what they are.
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : found.bytes);
}
