// Command-line parsing shared by every command: config flags (one per config key) and --help.
import { parseArgs } from 'node:util';
import { CONFIG_SPEC, flagName } from '../config.js';

export interface ParsedArgs {
  /** Config overrides by env name. */
  flags: Record<string, string>;
  help: boolean;
  positionals: string[];
  /** Command-specific boolean switches that were given. */
  switches: Set<string>;
}

export function parseCommandArgs(argv: string[], switches: readonly string[] = []): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of Object.values(CONFIG_SPEC)) options[flagName(spec.env).slice(2)] = { type: 'string' };
  for (const s of switches) options[s] = { type: 'boolean' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const flags: Record<string, string> = {};
  for (const spec of Object.values(CONFIG_SPEC)) {
    const v = values[flagName(spec.env).slice(2)];
    if (typeof v === 'string') flags[spec.env] = v;
  }
  return { flags, help: values.help === true, positionals, switches: new Set(switches.filter((s) => values[s] === true)) };
}

export function configHelp(keys: (keyof typeof CONFIG_SPEC)[]): string {
  return keys
    .map((k) => {
      const s = CONFIG_SPEC[k];
      return `  ${flagName(s.env).padEnd(26)} ${s.doc} [env ${s.env}, default ${s.default}]`;
    })
    .join('\n');
}
