// Where an engine process answers /health, from its command line and environment: what the container's health check asks.
import { CONFIG_SPEC, flagName, loadConfig, type Config } from '../config.js';

/** The engine command and its arguments in a command line holding `…/cli/main.js <command> …` (after node, or an init and node). */
export function engineCommand(cmdline: readonly string[]): { command: string; args: string[] } | undefined {
  const at = cmdline.findIndex((a) => /(^|\/)cli\/main\.js$/.test(a));
  if (at < 0 || at + 1 >= cmdline.length) return undefined;
  return { command: cmdline[at + 1]!, args: cmdline.slice(at + 2) };
}

/** The configuration flags of a command line (`--metrics-port 9000`, `--metrics-port=9000`), by env name, as the CLI reads them. */
function configFlags(args: readonly string[]): Record<string, string> {
  const byFlag = new Map(Object.values(CONFIG_SPEC).map((s) => [flagName(s.env), s.env]));
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const env = byFlag.get(name);
    if (!env) continue;
    const value = inline ?? args[i + 1];
    if (value !== undefined) flags[env] = value;
    if (inline === undefined) i++;
  }
  return flags;
}

/** A bind address as a client reaches it from inside the same container: the wildcard addresses by loopback. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The /health URL of the process started by this command line with this environment, or undefined for one that
 * serves none: the simulated feed and a file ingest (no endpoint), a metrics port of 0 (off), a port of 0 (any free
 * one: unknown from outside), a command that is not a long-running server.
 */
export function healthUrl(cmdline: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const cmd = engineCommand(cmdline);
  if (!cmd) return undefined;
  const config: Config = loadConfig({ env, flags: configFlags(cmd.args) });
  const at = (host: string, port: number) => (port > 0 ? `http://${reachable(host)}:${port}/health` : undefined);
  switch (cmd.command) {
    case 'gateway':
    case 'demo':
      return at(config.gatewayHost, config.gatewayPort);
    case 'aggregate':
      return at(config.gatewayHost, config.metricsPort);
    case 'ingest':
      // Only a venue feed serves /health (on the aggregator's address); the simulator and a file ingest serve none.
      if (cmd.args.some((a) => a === '--file' || a.startsWith('--file='))) return undefined;
      return config.feed === 'sim' ? undefined : at(config.gatewayHost, config.feedMetricsPort);
    case 'push-gateway':
      return at(config.pushHost, config.pushPort);
    default:
      return undefined;
  }
}
