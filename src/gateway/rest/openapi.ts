// The OpenAPI 3.1 description of the REST endpoints, built from the same schemas the serializers use.
import { isDeepStrictEqual } from 'node:util';
import { BAR_JSON_SCHEMA, QUOTE_JSON_SCHEMA, TRADE_JSON_SCHEMA } from '../ws/protocol.js';
import { MAX_LIMIT } from './bars-query.js';
import { MAX_PATTERN_LENGTH } from '../../contracts/symbol-pattern.js';

/** Limits of POST /api/v1/quotes: the values server.ts enforces (MAX_QUOTES, MAX_BODY). */
const MAX_QUOTES = 1000;
const MAX_QUOTES_BODY = 256 * 1024;

const ERROR = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'stable error code: TE_BAD_REQUEST, TE_UNAUTHORIZED, TE_FORBIDDEN, TE_UNKNOWN_SYMBOL, TE_RATE_LIMITED, …' },
    message: { type: 'string' },
  },
  required: ['code', 'message'],
  additionalProperties: false,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

/** Serializer schemas that become components: a nested copy of one is replaced by a $ref to it. */
const COMPONENTS: [unknown, string][] = [
  [BAR_JSON_SCHEMA, 'Bar'],
  [TRADE_JSON_SCHEMA, 'Trade'],
];

/**
 * A fast-json-stringify schema as JSON Schema 2020-12 (OpenAPI 3.1): a nullable object (`type: ['object',
 * 'null']`, or OpenAPI 3.0's `nullable: true`) becomes `anyOf: [<object>, {type: 'null'}]`, and a copy of a
 * component schema becomes a $ref to it. `top` keeps a component itself from turning into a $ref to itself.
 */
function toJsonSchema(s: unknown, opts: { top?: boolean } = {}): unknown {
  const top = opts.top ?? false;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return s;
  const { nullable, ...o } = s as Record<string, unknown>;
  const types = o.type === undefined ? [] : ([] as unknown[]).concat(o.type);
  if (nullable === true && !types.includes('null')) types.push('null');
  // A nullable primitive is valid JSON Schema as a type list; a nullable object is split in two.
  const split = types.includes('null') && types.includes('object');
  if (types.length) {
    const kept = split ? types.filter((x) => x !== 'null') : types;
    o.type = kept.length === 1 ? kept[0] : kept;
  }
  const component = top ? undefined : COMPONENTS.find(([c]) => isDeepStrictEqual(c, o))?.[1];
  let out: Record<string, unknown>;
  if (component) out = ref(component);
  else {
    out = o;
    if (o.properties) out.properties = Object.fromEntries(Object.entries(o.properties as object).map(([k, v]) => [k, toJsonSchema(v)]));
    if (typeof o.items === 'object') out.items = toJsonSchema(o.items);
    if (typeof o.additionalProperties === 'object') out.additionalProperties = toJsonSchema(o.additionalProperties);
    for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(o[k])) out[k] = (o[k] as unknown[]).map((x) => toJsonSchema(x));
  }
  return split ? { anyOf: [out, { type: 'null' }] } : out;
}

/** Applies to the data routes only when the gateway runs with TE_AUTH=true; any one of the schemes will do. */
const SECURITY = [{ bearerJwt: [] }, { apiKeyHeader: [] }, { apiKeyQuery: [] }, { tokenQuery: [] }];

/** The answers auth and the per-principal limits can give on any data route (TE_AUTH=true only). */
const AUTH_RESPONSES = {
  '401': error('TE_AUTH=true only: no credentials, or an invalid, expired or unknown JWT or API key (TE_UNAUTHORIZED)'),
  '429': error('TE_AUTH=true only: the request rate of this API key or JWT subject (TE_LIMIT_RPS) is exceeded (TE_RATE_LIMITED)'),
};
const NOT_ENTITLED = error("TE_AUTH=true only: the principal's symbol patterns do not cover the symbol (TE_FORBIDDEN)");

export function openApiDocument(intervals: string[]): Record<string, unknown> {
  const time = {
    oneOf: [
      { type: 'integer', description: 'µs since the epoch' },
      { type: 'string', format: 'date-time' },
    ],
  };
  const symbol = {
    type: 'string',
    minLength: 1,
    maxLength: MAX_PATTERN_LENGTH,
    description: "one symbol: no '*' or '?', '/', whitespace or control characters",
  };
  const quote = toJsonSchema(QUOTE_JSON_SCHEMA, { top: true }) as { properties: Record<string, Record<string, unknown>> };
  return {
    openapi: '3.1.0',
    info: {
      title: 'tick-engine gateway',
      version: '1',
      description:
        'Bar history, quotes and instruments. Live data: WebSocket /ws (docs/protocol.md). ' +
        'The security requirements of the data routes apply only when the gateway runs with TE_AUTH=true; ' +
        'otherwise every request is served anonymously and 401, 403 and 429 do not occur.',
    },
    paths: {
      '/api/v1/bars/{symbol}': {
        get: {
          summary: 'Final bars of one symbol and interval, ascending by bucket, cursor-paginated',
          security: SECURITY,
          parameters: [
            { name: 'symbol', in: 'path', required: true, schema: symbol },
            { name: 'interval', in: 'query', required: true, schema: { type: 'string', enum: intervals } },
            { name: 'from', in: 'query', description: 'inclusive lower bound on the bucket start', schema: time },
            { name: 'to', in: 'query', description: 'exclusive upper bound on the bucket start', schema: time },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 500 } },
            { name: 'cursor', in: 'query', description: '`next` of the previous page', schema: { type: 'string' } },
          ],
          responses: {
            '200': json(ref('BarsPage'), 'a page of bars'),
            '400': error('an invalid or unknown parameter (TE_BAD_REQUEST)'),
            '401': AUTH_RESPONSES['401'],
            '403': NOT_ENTITLED,
            '429': AUTH_RESPONSES['429'],
            '503': error('the history store did not answer (TE_STORE_UNAVAILABLE)'),
          },
        },
      },
      '/api/v1/trades/{symbol}': {
        get: {
          summary:
            'Archived trades of one symbol (the tick archive, written by the archive command), ascending by event time, venue and trade id, cursor-paginated',
          security: SECURITY,
          parameters: [
            { name: 'symbol', in: 'path', required: true, schema: symbol },
            { name: 'from', in: 'query', description: 'inclusive lower bound on the event time', schema: time },
            { name: 'to', in: 'query', description: 'exclusive upper bound on the event time', schema: time },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 500 } },
            { name: 'cursor', in: 'query', description: '`next` of the previous page', schema: { type: 'string' } },
          ],
          responses: {
            '200': json(ref('TradesPage'), 'a page of archived trades'),
            '400': error('an invalid or unknown parameter (TE_BAD_REQUEST)'),
            '401': AUTH_RESPONSES['401'],
            '403': NOT_ENTITLED,
            '429': AUTH_RESPONSES['429'],
            '503': error('the tick archive (QuestDB) did not answer, or has no table yet (TE_STORE_UNAVAILABLE)'),
          },
        },
      },
      '/api/v1/quote/{symbol}': {
        get: {
          summary: 'The latest trade and, per interval, the current bar of one symbol, from the gateway memory',
          security: SECURITY,
          parameters: [{ name: 'symbol', in: 'path', required: true, schema: symbol }],
          responses: {
            '200': json(ref('Quote'), 'the quote'),
            '400': error('the symbol is invalid or a pattern (TE_BAD_REQUEST)'),
            '401': AUTH_RESPONSES['401'],
            '403': NOT_ENTITLED,
            '404': error('the gateway has seen no data for this symbol since it started (TE_UNKNOWN_SYMBOL)'),
            '429': AUTH_RESPONSES['429'],
          },
        },
      },
      '/api/v1/quotes': {
        post: {
          summary: 'Quotes of several symbols at once',
          security: SECURITY,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { symbols: { type: 'array', items: symbol, minItems: 1, maxItems: MAX_QUOTES } },
                  required: ['symbols'],
                },
              },
            },
          },
          responses: {
            '200': json(ref('Quotes'), 'the quotes of the known symbols, in request order (duplicates removed); the others in `unknown`'),
            '400': error(`the body is not JSON, or \`symbols\` is not a list of 1 to ${MAX_QUOTES} valid symbols (TE_BAD_REQUEST)`),
            '401': AUTH_RESPONSES['401'],
            '403': error('TE_AUTH=true only: the principal is not entitled to one of the symbols (TE_FORBIDDEN); the whole request is refused'),
            '413': error(`the body is larger than ${MAX_QUOTES_BODY} bytes (TE_BAD_REQUEST)`),
            '429': AUTH_RESPONSES['429'],
          },
        },
      },
      '/api/v1/instruments': {
        get: {
          summary: 'Intervals served and symbols seen since start (with TE_AUTH=true: only those the principal is entitled to)',
          security: SECURITY,
          responses: {
            '200': json(
              {
                type: 'object',
                properties: { intervals: { type: 'array', items: { type: 'string' } }, symbols: { type: 'array', items: { type: 'string' } } },
                required: ['intervals', 'symbols'],
                additionalProperties: false,
              },
              'instruments',
            ),
            ...AUTH_RESPONSES,
          },
        },
      },
      '/health': { get: { summary: 'Liveness (never needs credentials)', responses: { '200': json(ref('Status'), 'alive') } } },
      '/ready': {
        get: {
          summary: 'Readiness: the Kafka consumer has joined (never needs credentials)',
          responses: { '200': json(ref('Status'), 'ready'), '503': json(ref('Status'), 'starting') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (never needs credentials)',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
    components: {
      schemas: {
        Bar: toJsonSchema(BAR_JSON_SCHEMA, { top: true }),
        Trade: toJsonSchema(TRADE_JSON_SCHEMA, { top: true }),
        BarsPage: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            interval: { type: 'string' },
            bars: { type: 'array', items: ref('Bar') },
            next: { type: ['string', 'null'] },
          },
          required: ['symbol', 'interval', 'bars', 'next'],
          additionalProperties: false,
        },
        TradesPage: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            trades: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  venue: { type: 'string' },
                  symbol: { type: 'string' },
                  eventTime: { type: 'integer', description: 'µs since the epoch' },
                  price: { type: 'number' },
                  size: { type: 'number' },
                  side: { type: 'string', enum: ['BUY', 'SELL', 'UNKNOWN'] },
                  tradeId: { type: 'string' },
                  ingestTime: { type: 'integer', description: 'µs since the epoch' },
                  venueSymbol: { type: ['string', 'null'] },
                },
                required: ['venue', 'symbol', 'eventTime', 'price', 'size', 'side', 'tradeId', 'ingestTime', 'venueSymbol'],
                additionalProperties: false,
              },
            },
            next: { type: ['string', 'null'] },
          },
          required: ['symbol', 'trades', 'next'],
          additionalProperties: false,
        },
        Quote: {
          ...quote,
          properties: {
            ...quote.properties,
            lastTrade: { ...quote.properties.lastTrade, description: 'the latest trade by event time, if the gateway consumes trades (TE_GATEWAY_TRADES)' },
            // One property per interval served, each always present.
            bars: {
              type: 'object',
              description: 'per interval served: the bar in progress, else the last final bar, else null',
              properties: Object.fromEntries(intervals.map((iv) => [iv, quote.properties.bars!.additionalProperties])),
              required: intervals,
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
        Quotes: {
          type: 'object',
          properties: {
            quotes: { type: 'array', items: ref('Quote') },
            unknown: { type: 'array', items: { type: 'string' }, description: 'requested symbols the gateway has seen no data for' },
          },
          required: ['quotes', 'unknown'],
          additionalProperties: false,
        },
        Status: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
        Error: ERROR,
      },
      securitySchemes: {
        bearerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            '`Authorization: Bearer <jwt>`, HS256 or RS256; claims: sub and exp required, aud/iss when configured, `symbols` = entitled symbol patterns. `Authorization: ApiKey <key>` is accepted too. TE_AUTH=true only.',
        },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key of TE_API_KEYS_FILE. TE_AUTH=true only.' },
        apiKeyQuery: { type: 'apiKey', in: 'query', name: 'apikey', description: 'an API key in the query (for browsers and WebSocket). TE_AUTH=true only.' },
        tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'a JWT in the query (for browsers and WebSocket). TE_AUTH=true only.' },
      },
    },
  };
}
