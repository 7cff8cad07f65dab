// What the push endpoint answers about a batch (the HTTP body; over WebSocket the same with type, seq and status):
// its schema, declared once, and its serializer compiled once (docs/push-ingestion.md shows examples).
import fastJson, { type ObjectSchema } from 'fast-json-stringify';

export interface AnswerError {
  index: number;
  line?: number;
  field?: string;
  code: string;
  reason: string;
}

export interface Answer {
  /** WebSocket only: 'result' (and 'error' for a batch refused whole, serialized by the error path). */
  type?: 'result';
  /** WebSocket only: the message's number on its connection, from 1. */
  seq?: number;
  /** WebSocket only: the status the same batch gets over HTTP. */
  status?: number;
  records: number;
  accepted: number;
  rejected: number;
  written: { trades: number; quotes: number; quoteTicks: number };
  duplicates: { trades: number; quotes: number };
  errors: AnswerError[];
}

const count = { type: 'integer' } as const;

export const ANSWER_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    seq: count,
    status: count,
    records: count,
    accepted: count,
    rejected: count,
    written: {
      type: 'object',
      properties: { trades: count, quotes: count, quoteTicks: count },
      required: ['trades', 'quotes', 'quoteTicks'],
      additionalProperties: false,
    },
    duplicates: { type: 'object', properties: { trades: count, quotes: count }, required: ['trades', 'quotes'], additionalProperties: false },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: count, line: count, field: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' } },
        required: ['index', 'code', 'reason'],
        additionalProperties: false,
      },
    },
  },
  required: ['records', 'accepted', 'rejected', 'written', 'duplicates', 'errors'],
  additionalProperties: false,
};

export const serializeAnswer = fastJson(ANSWER_JSON_SCHEMA) as (a: Answer) => string;
