// The broker's own speed limit: Kafka's ProducerPerformance and ConsumerPerformance tools on the same broker.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../src/paths.js';

const run = promisify(execFile);

async function classpath(): Promise<string> {
  const { stdout } = await run('bash', [join(projectRoot(), 'deploy/local/kafka.sh'), 'classpath'], { env: process.env });
  return stdout.trim();
}

export interface ProducerPerf {
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  raw: string;
}

export async function producerPerf(brokers: string, topic: string, records: number, recordSize: number): Promise<ProducerPerf> {
  const { stdout } = await run(
    'java',
    [
      '-Xmx512m',
      '-cp',
      await classpath(),
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
      'linger.ms=5',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const last = stdout.trim().split('\n').pop()!;
  const m = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?([\d.]+) ms 50th, [\d.]+ ms 95th, ([\d.]+) ms 99th/.exec(last);
  if (!m) throw new Error(`cannot parse ProducerPerformance output: ${last}`);
  return { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), p50Ms: Number(m[3]), p99Ms: Number(m[4]), raw: last };
}

export interface ConsumerPerf {
  recordsPerSec: number;
  mbPerSec: number;
  raw: string;
}

export async function consumerPerf(brokers: string, topic: string, records: number): Promise<ConsumerPerf> {
  const { stdout } = await run(
    'java',
    [
      '-Xmx512m',
      '-cp',
      await classpath(),
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      brokers,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--timeout',
      '60000',
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const lines = stdout.trim().split('\n');
  const header = lines.findIndex((l) => l.includes('nMsg.sec'));
  if (header < 0) throw new Error(`cannot parse ConsumerPerformance output: ${stdout}`);
  const cols = lines[header]!.split(',').map((s) => s.trim());
  const vals = lines[header + 1]!.split(',').map((s) => s.trim());
  const get = (name: string) => Number(vals[cols.indexOf(name)]);
  return { recordsPerSec: get('nMsg.sec'), mbPerSec: get('MB.sec'), raw: lines.slice(header, header + 2).join('\n') };
}
