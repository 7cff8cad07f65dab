// What a load run sets up and clears away around itself: a free loopback port for the gateway it starts, and the
// private topics it created.
import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Delete those of `topics` that exist. */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const gone = topics.filter((t) => existing.has(t));
    if (gone.length) await admin.deleteTopics({ topics: gone });
  } finally {
    await admin.disconnect();
  }
}
