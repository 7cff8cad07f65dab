// Keeps a kafkajs consumer running through broker outages.
//
// kafkajs restarts a crashed consumer only when the error is retriable. A broker restart can end in one that is
// not: while the restarted broker still loads its group metadata, finding the group coordinator fails with
// KafkaJSGroupCoordinatorNotFound (retriable: false), kafkajs disconnects the consumer and stops — and a gateway
// or aggregator that treats that as fatal dies of a 10-second broker restart (seen in the faults bench). So a
// crash whose cause is the broker being unreachable or not ready is restarted here, with backoff, in the same
// group (consumption resumes from the committed offsets); any other crash is fatal, as before.
import type { Consumer } from 'kafkajs';
import { backoffMs } from '../backoff.js';
import type { Logger } from '../log.js';

/** kafkajs errors that mean "the broker is not reachable or not ready yet", whatever their `retriable` flag. */
const UNAVAILABLE = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/** Whether `err` (or an error in its cause chain) says the broker is unavailable, or is a retriable kafkajs error. */
export function brokerUnavailable(err: unknown): boolean {
  for (let e = err as { name?: string; retriable?: boolean; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if ((e.name && UNAVAILABLE.has(e.name)) || (e.name?.startsWith('KafkaJS') && e.retriable === true)) return true;
  }
  return false;
}

/** The part of kafkajs's Consumer the supervisor uses (a test passes a fake). */
export type SupervisedConsumer = Pick<Consumer, 'on' | 'events' | 'connect'>;

export interface SuperviseOptions {
  /** Names the consumer in log lines ('gateway', 'aggregator'). */
  name: string;
  log: Logger;
  /** Starts consuming again (consumer.run with the original options); the consumer is connected when it is called. */
  run: () => Promise<void>;
  /** Longest wait between two restart attempts. */
  maxDelayMs: number;
  /** True once the owner is shutting down: no restart then. */
  stopping: () => boolean;
  /** The consumer crashed and will be restarted (by kafkajs or here): in-memory state tied to the group is void. */
  onRestart?: () => void;
  /** A crash that is not an outage: the process should shut down. */
  onFatal?: (err: Error) => void;
}

/** Watch `consumer`'s crashes: restarts after outages (kafkajs's own, or here with backoff), fatal otherwise. */
export function superviseConsumer(consumer: SupervisedConsumer, opts: SuperviseOptions): void {
  const { log, name } = opts;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let down = false;

  const restart = async () => {
    timer = undefined;
    if (opts.stopping()) return;
    try {
      await consumer.connect();
      // A join that fails inside run() is reported as another crash, which schedules the next attempt.
      await opts.run();
    } catch (err) {
      log.debug({ err, consumer: name }, 'consumer restart attempt failed');
      schedule();
    }
  };
  const schedule = () => {
    if (timer || opts.stopping()) return;
    timer = setTimeout(() => void restart(), backoffMs(attempt++, opts.maxDelayMs));
    timer.unref();
  };

  consumer.on(consumer.events.GROUP_JOIN, () => {
    attempt = 0;
    if (down) log.info({ consumer: name }, `${name} consumer running again`);
    down = false;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    if (opts.stopping()) return;
    if (!e.payload.restart && !brokerUnavailable(err)) {
      log.fatal({ err, consumer: name }, `${name} consumer stopped`);
      opts.onFatal?.(err);
      return;
    }
    opts.onRestart?.();
    if (!down) log.warn({ err, consumer: name }, `${name} consumer crashed (broker unavailable); restarting it with backoff from the committed offsets`);
    down = true;
    // kafkajs restarts it itself after a retriable error; after any other outage error it has stopped for good.
    if (!e.payload.restart) schedule();
  });
}
