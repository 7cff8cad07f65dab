// The OpenAPI 3.1 description of the REST endpoints, built from the same schemas the serializers use.
import { BAR_JSON_SCHEMA } from './protocol.js';
import { MAX_LIMIT } from './bars-query.js';

const ERROR = {
  type: 'object',
  properties: { code: { type: 'string', description: 'stable error code, e.g. TE_BAD_REQUEST' }, message: { type: 'string' } },
  required: ['code', 'message'],
  additionalProperties: false,
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);

export function openApiDocument(intervals: string[]): Record<string, unknown> {
  const time = {
    oneOf: [
      { type: 'integer', description: 'µs since the epoch' },
      { type: 'string', format: 'date-time' },
    ],
  };
  return {
    openapi: '3.1.0',
    info: { title: 'tick-engine gateway', version: '1', description: 'Bar history and instruments. Live data: WebSocket /ws (docs/protocol.md).' },
    paths: {
      '/api/v1/bars/{symbol}': {
        get: {
          summary: 'Final bars of one symbol and interval, ascending by bucket, cursor-paginated',
          parameters: [
            { name: 'symbol', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } },
            { name: 'interval', in: 'query', required: true, schema: { type: 'string', enum: intervals } },
            { name: 'from', in: 'query', description: 'inclusive lower bound on the bucket start', schema: time },
            { name: 'to', in: 'query', description: 'exclusive upper bound on the bucket start', schema: time },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 500 } },
            { name: 'cursor', in: 'query', description: '`next` of the previous page', schema: { type: 'string' } },
          ],
          responses: {
            '200': json({ $ref: '#/components/schemas/BarsPage' }, 'a page of bars'),
            '400': error('an invalid parameter'),
            '503': error('the history store did not answer'),
          },
        },
      },
      '/api/v1/instruments': {
        get: {
          summary: 'Intervals served and symbols seen',
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
          },
        },
      },
      '/health': { get: { summary: 'Liveness', responses: { '200': json({ $ref: '#/components/schemas/Status' }, 'alive') } } },
      '/ready': {
        get: {
          summary: 'Readiness: the Kafka consumer of bars has joined',
          responses: { '200': json({ $ref: '#/components/schemas/Status' }, 'ready'), '503': json({ $ref: '#/components/schemas/Status' }, 'starting') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
    components: {
      schemas: {
        Bar: BAR_JSON_SCHEMA,
        BarsPage: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            interval: { type: 'string' },
            bars: { type: 'array', items: { $ref: '#/components/schemas/Bar' } },
            next: { type: ['string', 'null'] },
          },
          required: ['symbol', 'interval', 'bars', 'next'],
          additionalProperties: false,
        },
        Status: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
        Error: ERROR,
      },
    },
  };
}
