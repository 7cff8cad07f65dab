// BACKWARD compatibility of every schema family in schemas/: each newer version reads records written with the one
// before it (avsc's resolver, as a registry's BACKWARD check does), the fields it adds taking their defaults.
// The schema files are read here directly, not through src/stream/schemas.ts.
import { readFileSync } from 'node:fs';
import t from 'tap';
import avro from 'avsc';
import { projectRoot } from '../../src/paths.js';

interface Entry {
  id: number;
  name: string;
  version: number;
  file: string;
}
interface Field {
  name: string;
  default?: unknown;
}

const dir = `${projectRoot()}/schemas`;
const index = (JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) as { schemas: Entry[] }).schemas;
const json = (file: string) => JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { fields: Field[] };

const families = new Map<string, Entry[]>();
for (const e of index)
  families.set(
    e.name,
    [...(families.get(e.name) ?? []), e].sort((a, b) => a.version - b.version),
  );

t.test('every family in schemas/index.json, versions 1..n without gaps', async (t) => {
  t.same([...families.keys()].sort(), ['bar', 'feedEvent', 'frame', 'quote', 'signal', 'tick']);
  for (const [name, versions] of families)
    t.same(
      versions.map((v) => v.version),
      versions.map((_, i) => i + 1),
      `${name}: versions ${versions.map((v) => v.version).join(', ')}`,
    );
  t.ok(
    [...families.values()].some((v) => v.length > 1),
    'at least one family has several versions',
  );
});

for (const [name, versions] of families)
  for (let i = 1; i < versions.length; i++) {
    const older = versions[i - 1]!;
    const newer = versions[i]!;
    t.test(`${name}: version ${newer.version} (${newer.file}) reads version ${older.version} (${older.file})`, async (t) => {
      const oldType = avro.Type.forSchema(json(older.file) as unknown as avro.Schema);
      const newType = avro.Type.forSchema(json(newer.file) as unknown as avro.Schema);
      let resolver: avro.Resolver | undefined;
      t.doesNotThrow(() => (resolver = newType.createResolver(oldType)), 'newType.createResolver(oldType)');
      const oldFields = json(older.file).fields;
      const added = json(newer.file).fields.filter((f) => !oldFields.some((o) => o.name === f.name));
      t.ok(
        added.every((f) => 'default' in f),
        `the fields version ${newer.version} adds have defaults: ${added.map((f) => `${f.name}=${JSON.stringify(f.default)}`).join(', ')}`,
      );
      // Records of the old version, random in every field (unions on either branch): the newer reader gets every
      // old field as written and each added field's default.
      const bad: string[] = [];
      for (let n = 0; n < 200; n++) {
        const record = oldType.random() as unknown as Record<string, unknown>;
        const read = newType.fromBuffer(oldType.toBuffer(record), resolver) as Record<string, unknown>;
        // The old fields of what was read, as an old record: equal to the one written (avsc's own comparison).
        const oldPart = oldType.clone(Object.fromEntries(oldFields.map((f) => [f.name, read[f.name]])));
        if (oldType.compare(oldPart, record) !== 0) bad.push(`record ${n}: old fields differ: ${JSON.stringify(oldType.toString(record))}`);
        for (const f of added)
          if (JSON.stringify(read[f.name]) !== JSON.stringify(f.default)) bad.push(`record ${n}: ${f.name} is ${JSON.stringify(read[f.name])}`);
      }
      t.same(bad, [], `200 random version ${older.version} records: every old field as written, every added field at its default`);
    });
  }
