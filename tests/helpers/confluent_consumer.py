"""A downstream team's consumer, as Confluent documents it: confluent-kafka's own AvroDeserializer and
SchemaRegistryClient (PyPI), pointed at a schema registry URL, reading every record of the given topics from the
beginning to the end. Prints one JSON line per record: topic, partition, offset, schema id, and the value as the
deserializer returned it (timestamp-micros fields, which fastavro returns as datetimes, as µs since the epoch).

Used by tests/e2e/schema-registry.e2e.test.ts; nothing of the engine is imported here.

usage: confluent_consumer.py BROKERS REGISTRY_URL TOPIC...
"""
import datetime
import json
import sys
import uuid

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(v):
    """JSON-ready copy: datetimes (timestamp-micros) as exact integer µs since the epoch."""
    if isinstance(v, datetime.datetime):
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main():
    brokers, registry_url, topics = sys.argv[1], sys.argv[2], sys.argv[3:]
    registry = SchemaRegistryClient({"url": registry_url})
    deserializer = AvroDeserializer(registry)
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "confluent-consumer-" + uuid.uuid4().hex,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    assignment = []
    for topic in topics:
        meta = consumer.list_topics(topic, timeout=30).topics[topic]
        if meta.error is not None:
            raise SystemExit("topic %s: %s" % (topic, meta.error))
        assignment += [TopicPartition(topic, p, 0) for p in sorted(meta.partitions)]
    # Offset 0 of every partition; the end is where each reports end-of-partition.
    consumer.assign(assignment)
    pending = {(tp.topic, tp.partition) for tp in assignment}
    idle = 0
    while pending:
        msg = consumer.poll(1.0)
        if msg is None:
            idle += 1
            if idle > 60:
                raise SystemExit("no end of partition after 60 s of silence: %s" % sorted(pending))
            continue
        idle = 0
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                pending.discard((msg.topic(), msg.partition()))
                continue
            raise SystemExit("consumer error: %s" % msg.error())
        raw = msg.value()
        value = deserializer(raw, SerializationContext(msg.topic(), MessageField.VALUE))
        line = {
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "schemaId": int.from_bytes(raw[1:5], "big"),
            "value": plain(value),
        }
        sys.stdout.write(json.dumps(line) + "\n")
    consumer.close()


if __name__ == "__main__":
    main()
