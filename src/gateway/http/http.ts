// Small HTTP helpers over uWebSockets.js: read what a handler needs from the request synchronously (uWS
// requests are only valid until the first await), read a bounded body, write a reply once, corked.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { clientError, PayloadTooLargeError } from '../../errors.js';
import type { Credentials } from '../auth/auth.js';

export interface RequestInfo {
  method: string;
  url: string;
  query: string;
  params: string[];
  origin: string;
  host: string;
  credentials: Credentials;
}

export interface Reply {
  status: number;
  body: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
}

const STATUS: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  207: '207 Multi-Status',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  421: '421 Misdirected Request',
  422: '422 Unprocessable Content',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function readRequest(req: HttpRequest, nParams = 0): RequestInfo {
  const query = req.getQuery() ?? '';
  const q = new URLSearchParams(query);
  const params: string[] = [];
  for (let i = 0; i < nParams; i++) {
    const raw = req.getParameter(i) ?? '';
    try {
      params.push(decodeURIComponent(raw));
    } catch {
      // Malformed percent-encoding: a 400 for the handler to give, not an exception out of a uWS callback.
      params.push('\u0000' + raw);
    }
  }
  return {
    method: req.getMethod().toUpperCase(),
    url: req.getUrl(),
    query,
    params,
    origin: req.getHeader('origin'),
    host: req.getHeader('host'),
    credentials: {
      authorization: req.getHeader('authorization') || undefined,
      apiKey: req.getHeader('x-api-key') || q.get('apikey') || undefined,
      token: q.get('token') || undefined,
    },
  };
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body: typeof body === 'string' ? body : JSON.stringify(body), type: 'application/json', headers };
}

/** The JSON error reply for any error (the same mapping as a WebSocket request's error message: clientError). */
export function errorReply(err: unknown): Reply {
  const e = clientError(err);
  return json(e.status, { code: e.code, message: e.message });
}

export function writeReply(res: HttpResponse, r: Reply, extra?: Record<string, string>): void {
  res.cork(() => {
    res.writeStatus(STATUS[r.status] ?? `${r.status} Status`);
    if (r.type) res.writeHeader('content-type', r.type);
    for (const [k, v] of Object.entries({ ...extra, ...r.headers })) res.writeHeader(k, v);
    res.end(r.body);
  });
}

/** Collect the request body (must be called before the handler's first await); rejects past `limit` bytes. */
export function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, last) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        return reject(new PayloadTooLargeError(`request body is larger than ${limit} bytes`));
      }
      // uWS reuses the chunk's memory after the callback: copy it.
      chunks.push(Buffer.copyBytesFrom(new Uint8Array(chunk)));
      if (last) resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * Whether a request's message framing is ambiguous: more than one Content-Length, or Content-Length with
 * Transfer-Encoding (RFC 9112 §6.3). uWS reads the body by the first Content-Length and parses the rest as the
 * next request, which is how requests are smuggled past a proxy.
 */
export function ambiguousFraming(req: HttpRequest): boolean {
  let lengths = 0;
  let transfer = false;
  req.forEach((k) => {
    if (k === 'content-length') lengths++;
    else if (k === 'transfer-encoding') transfer = true;
  });
  return lengths > 1 || (lengths > 0 && transfer);
}
