// Compare two lists of records by identity, returning a short list of differences (tap's deep diff of
// thousands of records takes minutes when they differ; this says what differs in milliseconds).

/** JSON with keys in a fixed order, own properties only (avsc records carry prototype methods). */
export function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** Differences between two multisets of records keyed by `id`: missing, extra, and different ones. */
export function diffRecords<T>(actual: T[], expected: T[], id: (x: T) => string, max = 5): string[] {
  const out: string[] = [];
  const exp = new Map<string, string[]>();
  for (const e of expected) {
    const list = exp.get(id(e)) ?? [];
    list.push(canonical(e));
    exp.set(id(e), list);
  }
  for (const a of actual) {
    const k = id(a);
    const list = exp.get(k);
    const c = canonical(a);
    const i = list ? list.indexOf(c) : -1;
    if (i >= 0) {
      list!.splice(i, 1);
      if (list!.length === 0) exp.delete(k);
    } else out.push(list ? `${k}: got ${c}, expected ${list[0]}` : `extra ${k}: ${c}`);
  }
  for (const [k, list] of exp) for (const e of list) out.push(`missing ${k}: ${e}`);
  return out.slice(0, max).concat(out.length > max ? [`… and ${out.length - max} more`] : []);
}
