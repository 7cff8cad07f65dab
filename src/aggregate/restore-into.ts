// Restores an object graph's data into freshly constructed instances of the same classes: the inverse of
// structured cloning (v8.serialize keeps an instance's own fields but not its class). Used to bring indicators
// back from a state snapshot without every indicator class growing its own (de)serializer.
//
// Fields are matched by name: typed arrays and arrays are refilled in place (an object may hold them readonly),
// nested objects are restored recursively, anything else is assigned. Fields missing from `data` keep their
// constructor values, so a snapshot from before a field was added still restores.
export function restoreInto(target: object, data: unknown): void {
  if (!data || typeof data !== 'object') return;
  const t = target as Record<string, unknown>;
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const cur = t[k];
    if (ArrayBuffer.isView(cur) && ArrayBuffer.isView(v)) (cur as unknown as Float64Array).set(v as unknown as Float64Array);
    else if (Array.isArray(cur) && Array.isArray(v)) cur.splice(0, cur.length, ...(v as unknown[]));
    else if (cur && typeof cur === 'object' && v && typeof v === 'object' && !Array.isArray(v)) restoreInto(cur, v);
    else t[k] = v;
  }
}
