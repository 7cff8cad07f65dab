// Command-line parsing shared by every command: config flags (one per config key) and --help.
import { parseArgs } from 'node:util';
import { CONFIG_GROUPS, CONFIG_SPEC, flagName, type Config, type ConfigGroup } from '../config.js';

export interface ParsedArgs {
  /** Config overrides by env name. */
  flags: Record<string, string>;
  help: boolean;
  positionals: string[];
  /** Command-specific options that were given (not configuration keys). */
  options: Map<string, string | boolean>;
}

/** A command's own options: name → [type, help]. */
export type CommandOptions = Record<string, readonly ['string' | 'boolean', string]>;

/** A command's short names for configuration flags: name (without --) → the key's env name ({ symbols: 'TE_FEED_SYMBOLS' }). */
export type FlagAliases = Readonly<Record<string, string>>;

export function parseCommandArgs(argv: string[], own: CommandOptions = {}, aliases: FlagAliases = {}): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of Object.values(CONFIG_SPEC)) options[flagName(spec.env).slice(2)] = { type: 'string' };
  for (const [name, [type]] of Object.entries(own)) options[name] = { type };
  for (const name of Object.keys(aliases)) options[name] = { type: 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const flags: Record<string, string> = {};
  for (const [name, env] of Object.entries(aliases)) {
    const v = values[name];
    if (typeof v === 'string') flags[env] = v;
  }
  // The key's own flag wins over an alias given too.
  for (const spec of Object.values(CONFIG_SPEC)) {
    const v = values[flagName(spec.env).slice(2)];
    if (typeof v === 'string') flags[spec.env] = v;
  }
  const given = new Map<string, string | boolean>();
  for (const name of Object.keys(own)) {
    const v = values[name];
    if (v !== undefined) given.set(name, v as string | boolean);
  }
  return { flags, help: values.help === true, positionals, options: given };
}

/** The options of the given groups, a section each, then single keys of other groups: what a command's --help lists. */
export function configHelp(groups: readonly ConfigGroup[], keys: readonly (keyof Config)[] = []): string {
  const line = (k: keyof typeof CONFIG_SPEC) => {
    const s = CONFIG_SPEC[k];
    return `  ${flagName(s.env).padEnd(26)} ${s.doc} [env ${s.env}, default ${s.default}]`;
  };
  const all = Object.keys(CONFIG_SPEC) as (keyof typeof CONFIG_SPEC)[];
  const sections = groups.map(
    (g) =>
      `options (${CONFIG_GROUPS[g]}):\n${all
        .filter((k) => CONFIG_SPEC[k].group === g)
        .map(line)
        .join('\n')}`,
  );
  const others = keys.filter((k) => !groups.includes(CONFIG_SPEC[k].group));
  if (others.length) sections.push(`options (also read):\n${others.map(line).join('\n')}`);
  return sections.join('\n\n');
}
