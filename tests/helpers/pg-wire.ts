// Hand-built PostgreSQL frontend messages, for tests that speak the wire protocol to the TimescaleDB endpoint directly.

/** A typed frontend message: type byte, length, body. */
export function message(type: string, body: Buffer): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
}

/** The startup message (protocol 3.0) for user and database postgres. */
export function startup(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const b = Buffer.alloc(8 + params.length);
  b.writeInt32BE(b.length, 0);
  b.writeInt32BE(196608, 4);
  params.copy(b, 8);
  return b;
}
