// The one file inside a .zip archive (an exchange's bulk dump: one CSV per archive), as a stream of its bytes.
//
// yauzl reads the archive's central directory (the authoritative list of entries, at the end of the file) and
// inflates the entry; it checks the entry's size against the directory but not its CRC-32, which is checked here
// over every byte read, so a damaged archive fails at its end instead of publishing a silently shortened file.
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { DecodeError } from '../../errors.js';

export interface ZipEntry {
  /** The entry's name inside the archive. */
  name: string;
  /** Its size once inflated, from the central directory (checked while reading). */
  size: number;
  /** Its bytes from the start, inflated; the last chunk is followed by the CRC check (DecodeError on a mismatch). */
  bytes(): AsyncGenerator<Buffer>;
}

/** Opens `path` and finds its single file entry; DecodeError when it is not a zip or holds more or fewer than one file. */
export async function openZipEntry(path: string): Promise<ZipEntry> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { autoClose: false });
  } catch (err) {
    throw new DecodeError(`${path} is not a readable zip archive: ${(err as Error).message}`, { cause: err });
  }
  const files: yauzl.Entry[] = [];
  try {
    for await (const entry of zip.eachEntry()) if (!entry.fileName.endsWith('/')) files.push(entry);
  } catch (err) {
    zip.close();
    throw new DecodeError(`${path}: the zip directory does not read: ${(err as Error).message}`, { cause: err });
  }
  zip.close();
  if (files.length !== 1)
    throw new DecodeError(`${path} holds ${files.length} files; an exchange dump holds exactly one (${files.map((f) => f.fileName).join(', ') || 'none'})`);
  const entry = files[0]!;
  if (!entry.canDecodeFileData()) throw new DecodeError(`${path}: ${entry.fileName} is encrypted or uses compression method ${entry.compressionMethod}`);
  return {
    name: entry.fileName,
    size: entry.uncompressedSize,
    bytes: () => entryBytes(path, entry.fileName, entry.crc32),
  };
}

/** The entry's bytes, read from a fresh handle on the archive (each call reads from the start). */
async function* entryBytes(path: string, name: string, expectedCrc: number): AsyncGenerator<Buffer> {
  const zip = await yauzl.openPromise(path, { autoClose: false });
  let stream: Readable | undefined;
  try {
    let entry: yauzl.Entry | undefined;
    for await (const e of zip.eachEntry()) if (e.fileName === name) entry = e;
    if (!entry) throw new DecodeError(`${path}: ${name} is no longer in the archive`);
    stream = await zip.openReadStreamPromise(entry);
    let crc = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof DecodeError) throw err;
      throw new DecodeError(`${path}: ${name} does not inflate: ${(err as Error).message}`, { cause: err });
    }
    if (crc >>> 0 !== expectedCrc >>> 0)
      throw new DecodeError(
        `${path}: ${name} fails its CRC-32 check (${(crc >>> 0).toString(16)}, the archive says ${(expectedCrc >>> 0).toString(16)}): the archive is damaged`,
      );
  } finally {
    stream?.destroy();
    zip.close();
  }
}
