// Reads deploy/'s Dockerfile, compose.yaml and Kubernetes manifests and lists what in them disagrees with the engine:
// configuration keys and values (src/config.ts), the ports each process listens on, the paths it answers, the files
// the image copies. Each check returns problems (strings) so a test can assert none on the real files and a specific
// one on a copy broken on purpose. Written for tests/deploy/artefacts.test.ts: no Docker engine or cluster runs here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_SPEC, loadConfig, type Config } from '../../src/config.js';

// ---------- loose access to parsed YAML ----------
export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

// ---------- the engine: what each command serves, and where ----------

/**
 * Where each long-running command listens, written here from src/cli/main.ts (which address and port key each
 * command passes to its server), not taken from src/cli/health-url.ts, so the two are checked against each other.
 */
export const LISTENS: Record<string, (c: Config) => { host: string; port: number } | undefined> = {
  gateway: (c) => ({ host: c.gatewayHost, port: c.gatewayPort }),
  aggregate: (c) => (c.metricsPort > 0 ? { host: c.gatewayHost, port: c.metricsPort } : undefined),
  // ingest serves /metrics and /health only as a venue feed; the simulator serves nothing.
  ingest: (c) => (c.feed !== 'sim' && c.feedMetricsPort > 0 ? { host: c.gatewayHost, port: c.feedMetricsPort } : undefined),
  'push-gateway': (c) => ({ host: c.pushHost, port: c.pushPort }),
};

const LOOPBACK = /^(127\.|localhost$|::1$)/;

/** Problems of a process's environment: keys the engine does not have, and what its validation says of the values. */
export function envProblems(where: string, env: Record<string, string>): { problems: string[]; config?: Config } {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith('TE_') && !Object.values(CONFIG_SPEC).some((s) => s.env === key)) problems.push(`${where}: ${key} is not a configuration key`);
  }
  try {
    return { problems, config: loadConfig({ env }) };
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return { problems };
  }
}

/** The engine command of a container's arguments; configuration goes in the environment, where these checks see it. */
function commandProblems(where: string, args: unknown[]): { problems: string[]; command?: string } {
  const [command, ...rest] = args.map(String);
  if (!command || !(command in LISTENS)) return { problems: [`${where}: runs '${args.join(' ')}', not one of ${Object.keys(LISTENS).join(', ')}`] };
  const flags = rest.filter((a) => a.startsWith('--'));
  return { command, problems: flags.length ? [`${where}: configuration flags ${flags.join(' ')} (put them in the environment)`] : [] };
}

// ---------- Dockerfile ----------

export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** Stages and their instructions (continuation lines joined, comments and the parser directive dropped). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const step = { op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ').trim() };
    if (step.op === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(step.args) ?? [];
      stages.push({ name: name ?? String(stages.length), from: from ?? '', steps: [] });
    } else if (stages.length) stages.at(-1)!.steps.push(step);
  }
  return stages;
}

/** An instruction's exec form (`["node", "x.js"]`), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) ? v.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** ENV of a stage (`ENV A=1 B=2`, or the old `ENV A 1`). */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of stage.steps.filter((s) => s.op === 'ENV')) {
    if (!s.args.includes('=')) {
      const [k, ...v] = s.args.split(' ');
      env[k!] = v.join(' ');
      continue;
    }
    for (const [, k, v] of s.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[k!] = v!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** .dockerignore patterns as regular expressions over context-relative paths (exceptions with ! are not used here). */
export function ignorePatterns(text: string): { pattern: string; re: RegExp }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      if (pattern.startsWith('!')) throw new Error(`.dockerignore: exceptions (${pattern}) are not understood by this check`);
      const body = posix
        .normalize(pattern.replace(/^\/+/, ''))
        .replace(/\/$/, '')
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((p) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[p] ?? p.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { pattern, re: new RegExp(`^${body}$`) };
    });
}

/** The pattern that keeps a path (or a folder above it) out of the build context, if any. */
export function ignoredBy(path: string, patterns: { pattern: string; re: RegExp }[]): string | undefined {
  const parts = posix.normalize(path).replace(/\/$/, '').split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const hit = patterns.find((p) => p.re.test(prefix));
    if (hit) return hit.pattern;
  }
  return undefined;
}

export interface DockerInputs {
  root: string;
  stages: Stage[];
  dockerignore: string;
  /** package.json's bin of the CLI. */
  bin: string;
  /** The npm ci line of scripts/ensure-deps.sh. */
  ensureDepsNpmCi: string;
  /** tsconfig.json's outDir. */
  outDir: string;
  /** Folders and files the engine reads relative to the project root at run time (src/, join(projectRoot(), '…')). */
  runtimeReads: string[];
  /** package.json's install lifecycle scripts (preinstall, install, postinstall, prepare): npm ci runs them. */
  lifecycleScripts: string;
  /** scripts/ensure-deps.sh itself. */
  ensureDeps: string;
  /** Whether native/ holds an addon to build (native/binding.gyp). */
  nativeAddon: boolean;
}

/** Repository paths a shell script names (scripts/…, native/…, patches/…), and patches/ for patch-package. */
function pathsNamed(script: string): string[] {
  const paths = [...script.matchAll(/(?:^|[\s"'=(])((?:scripts|native|patches)\/[\w./-]*)/g)].map((m) => m[1]!.replace(/\/$/, ''));
  if (/\bpatch-package\b/.test(script)) paths.push('patches');
  return [...new Set(paths)];
}

/** The runtime stage's ENV: the environment every container of the image starts with. */
export function imageEnv(stages: Stage[]): Record<string, string> {
  const runtime = stages.at(-1);
  return runtime ? stageEnv(runtime) : {};
}

export function dockerfileProblems(d: DockerInputs): string[] {
  const problems: string[] = [];
  const runtime = d.stages.at(-1);
  if (!runtime) return ['Dockerfile: no stage'];
  const stageNames = d.stages.map((s) => s.name);
  const patterns = ignorePatterns(d.dockerignore);
  for (const { pattern } of patterns)
    if (/\s#/.test(pattern)) problems.push(`.dockerignore: '${pattern}' — a comment after a pattern is part of the pattern there`);

  // Files copied from the build context exist and are not ignored; --from names an earlier stage.
  for (const [i, stage] of d.stages.entries()) {
    for (const s of stage.steps.filter((s) => s.op === 'COPY' || s.op === 'ADD')) {
      const words = execForm(s.args) ?? s.args.split(' ');
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      const sources = paths.slice(0, -1);
      if (from !== undefined) {
        if (!stageNames.slice(0, i).includes(from)) problems.push(`Dockerfile: COPY --from=${from}: no earlier stage of that name`);
        continue;
      }
      for (const src of sources) {
        if (!existsSync(join(d.root, src))) problems.push(`Dockerfile: COPY ${src}: no such file in the repository`);
        const by = ignoredBy(src, patterns);
        if (by) problems.push(`Dockerfile: COPY ${src}: excluded from the build context by .dockerignore '${by}'`);
      }
    }
  }

  // The build runs the test command's own install-and-build script; the runtime installs with the same npm ci.
  const runs = d.stages.flatMap((s) => s.steps.filter((x) => x.op === 'RUN').map((x) => ({ stage: s.name, cmd: x.args })));
  if (!runs.some((r) => /\bbash scripts\/ensure-deps\.sh\b/.test(r.cmd)))
    problems.push('Dockerfile: no stage runs scripts/ensure-deps.sh (the npm ci and tsc of npm test)');
  const ciFlags = new Set(d.ensureDepsNpmCi.split(' ').filter((w) => w.startsWith('--')));
  const prodInstall = runs.find((r) => /\bnpm ci\b.*--omit=dev/.test(r.cmd));
  if (!prodInstall) problems.push('Dockerfile: no production install (npm ci --omit=dev)');
  else {
    const flags = new Set(prodInstall.cmd.split(' ').filter((w) => w.startsWith('--')));
    const extra = [...flags].filter((f) => !ciFlags.has(f) && f !== '--omit=dev' && !f.startsWith('--mount='));
    const missing = [...ciFlags].filter((f) => !flags.has(f));
    if (extra.length || missing.length)
      problems.push(`Dockerfile: '${prodInstall.cmd}' differs from ensure-deps.sh's '${d.ensureDepsNpmCi}' by more than --omit=dev`);
  }
  // The stages that install run the lifecycle scripts and ensure-deps.sh: what those name must be copied in first.
  for (const stage of d.stages) {
    const runsCi = stage.steps.some((x) => x.op === 'RUN' && /\bnpm ci\b/.test(x.args));
    const runsEnsure = stage.steps.some((x) => x.op === 'RUN' && /scripts\/ensure-deps\.sh/.test(x.args));
    if (!runsCi && !runsEnsure) continue;
    const copiedHere = stage.steps
      .filter((x) => x.op === 'COPY' && !x.args.includes('--from='))
      .flatMap((x) =>
        x.args
          .split(' ')
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1),
      )
      .map((p) => p.replace(/\/$/, ''));
    const needed = [...pathsNamed(d.lifecycleScripts), ...(runsEnsure ? pathsNamed(d.ensureDeps) : [])];
    for (const need of new Set(needed))
      if (!copiedHere.some((c) => need === c || need.startsWith(`${c}/`)))
        problems.push(`Dockerfile: stage ${stage.name} installs, and npm's lifecycle scripts or ensure-deps.sh use ${need}, which it does not copy`);
  }
  // A native addon to build: a C++ toolchain where it is built, and the built .node in the runtime stage.
  if (d.nativeAddon) {
    const toolchain = d.stages.some((st) =>
      st.steps.some((x) => x.op === 'RUN' && /apt-get install/.test(x.args) && /\bg\+\+/.test(x.args) && /\bmake\b/.test(x.args) && /\bpython3\b/.test(x.args)),
    );
    const copiesAddon = runtime.steps.some((x) => x.op === 'COPY' && x.args.includes('--from=') && /native\/build/.test(x.args));
    if (!toolchain || !copiesAddon)
      problems.push(
        'Dockerfile: native/binding.gyp is an addon to build: install g++, make and python3 where npm ci builds it, and copy native/build/Release/*.node into the runtime stage',
      );
  }
  const fromBuild = runtime.steps
    .filter((s) => s.op === 'COPY' && s.args.includes('--from='))
    .map((s) => s.args.split(' ').filter((w) => !w.startsWith('--'))[0]);
  if (!fromBuild.some((src) => src && posix.normalize(src).startsWith(`/app/${d.outDir}/`)))
    problems.push(`Dockerfile: the runtime stage copies nothing from the build's ${d.outDir}/`);

  // What the engine reads from the project root at run time is in the image.
  const copied = runtime.steps
    .filter((s) => s.op === 'COPY' && !s.args.includes('--from='))
    .flatMap((s) =>
      s.args
        .split(' ')
        .filter((w) => !w.startsWith('--'))
        .slice(0, -1),
    )
    .map((p) => p.replace(/\/$/, ''));
  // Built parts copied from another stage count by their destination (native/build/Release under native/).
  const built = runtime.steps
    .filter((s) => s.op === 'COPY' && s.args.includes('--from='))
    .map((s) =>
      s.args
        .split(' ')
        .filter((w) => !w.startsWith('--'))
        .at(-1)!
        .replace(/\/$/, ''),
    );
  for (const need of d.runtimeReads) {
    if (!copied.some((c) => need === c || need.startsWith(`${c}/`)) && !built.some((c) => c.startsWith(`${need}/`)))
      problems.push(`Dockerfile: the runtime stage does not copy ${need}, which the engine reads`);
  }

  // Not root: the last USER of the runtime stage, numeric (Kubernetes' runAsNonRoot can only verify a number).
  const user = runtime.steps.filter((s) => s.op === 'USER').at(-1)?.args;
  const uid = user?.split(':')[0];
  if (!user) problems.push('Dockerfile: the runtime stage runs as root (no USER)');
  else if (!/^\d+$/.test(uid!)) problems.push(`Dockerfile: USER ${user} is not numeric (runAsNonRoot cannot verify it)`);
  else if (Number(uid) === 0) problems.push('Dockerfile: USER 0 is root');

  // ENTRYPOINT: node on the CLI package.json names; HEALTHCHECK: node on a script the build produces.
  const entry = execForm(runtime.steps.filter((s) => s.op === 'ENTRYPOINT').at(-1)?.args ?? '');
  if (!entry || entry[0] !== 'node' || entry.at(-1) !== d.bin) problems.push(`Dockerfile: ENTRYPOINT is not ["node", …, "${d.bin}"]`);
  const hc = runtime.steps.filter((s) => s.op === 'HEALTHCHECK').at(-1)?.args;
  const hcCmd = hc ? execForm(hc.replace(/^(--\S+ )*CMD /, '')) : undefined;
  if (!hcCmd || hcCmd[0] !== 'node') problems.push('Dockerfile: no HEALTHCHECK CMD ["node", script] (exec form)');
  else if (!hcCmd[1]?.startsWith(`${d.outDir}/src/`) || !existsSync(join(d.root, hcCmd[1].replace(/\.js$/, '.ts').replace(`${d.outDir}/`, ''))))
    problems.push(`Dockerfile: HEALTHCHECK runs ${hcCmd[1]}, which no file of src/ compiles to`);

  // ENV: configuration keys that exist, with values the engine accepts; EXPOSE: the ports those give the processes.
  const env = imageEnv(d.stages);
  const { problems: envP, config } = envProblems('Dockerfile ENV', env);
  problems.push(...envP);
  if (config) {
    const want = Object.values(LISTENS)
      .map((l) => l({ ...config, feed: 'binance' } as Config)?.port)
      .filter((p): p is number => p !== undefined && p > 0);
    const exposed = runtime.steps.filter((s) => s.op === 'EXPOSE').flatMap((s) => s.args.split(' ').map((p) => Number(p.split('/')[0])));
    if ([...new Set(exposed)].sort().join() !== [...new Set(want)].sort().join())
      problems.push(`Dockerfile: EXPOSE ${exposed.join(' ')}, the processes listen on ${want.join(' ')}`);
  }
  return problems;
}

/** The paths src/ reads relative to the project root: `join(projectRoot(), 'a/b', …)` literals. */
export function runtimeReadsOfSrc(root: string, notInImage: Record<string, string>): string[] {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const reads = new Set<string>();
  for (const f of files(join(root, 'src')))
    for (const [, p] of readFileSync(f, 'utf8').matchAll(/join\(projectRoot\(\), '([^']+)'/g)) if (!(p! in notInImage)) reads.add(p!);
  return [...reads, 'package.json'].sort();
}

// ---------- compose ----------

/** A service's environment as a map (compose allows a map or a list of KEY=value). */
function composeEnv(v: unknown): Record<string, string> {
  if (Array.isArray(v))
    return Object.fromEntries(
      v.map(String).map((kv) => {
        const i = kv.indexOf('=');
        return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  return Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, str(x) ?? '']));
}

/** The container port of a compose ports entry ('127.0.0.1:8088:8088', '8088:8088', '8088', { target: 8088 }). */
function containerPort(p: unknown): number {
  if (typeof p === 'object' && p !== null) return Number(obj(p).target);
  return Number(String(p).split('/')[0]!.split(':').at(-1));
}

/** host:port of a URL-like value (postgres://u:p@host:5432/db, http://host:9000, host:9092). */
function hostPort(value: string, defaultPort?: number): { host: string; port: number } {
  const u = new URL(value.includes('://') ? value : `tcp://${value}`);
  return { host: u.hostname, port: u.port ? Number(u.port) : (defaultPort ?? 0) };
}

/** Ports each image listens on, where the image decides (Kafka's come from its own listener setting). */
const IMAGE_PORTS: [RegExp, number[]][] = [
  [/^timescale\/timescaledb|^postgres/, [5432]],
  [/^questdb\/questdb/, [9000, 8812, 9009]],
  [/^prom\/prometheus/, [9090]],
  [/^grafana\/grafana/, [3000]],
];

export interface ComposeInputs {
  root: string;
  compose: Obj;
  /** The image's ENV, under each built service's own environment. */
  imageEnv: Record<string, string>;
  /** Paths each command's server answers (not 404). */
  serves: Record<string, Set<string>>;
  /** Job names of deploy/prometheus/prometheus.yml (the ones alerts.yml knows). */
  alertJobs: Set<string>;
  /** The image's ENTRYPOINT, and what its HEALTHCHECK asks for a command line and environment (src/cli/health-url.ts). */
  entrypoint: string[];
  healthCheck: (cmdline: readonly string[], env: NodeJS.ProcessEnv) => string | undefined;
  /** The dashboards of deploy/grafana/dashboards (JSON), which must name a provisioned data source. */
  dashboards: { file: string; json: unknown }[];
}

/** Every `datasource` reference in a dashboard (panels, targets, variables, annotations), as found. */
function datasourceRefs(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) datasourceRefs(x, out);
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      if (k === 'datasource') out.push(x);
      else datasourceRefs(x, out);
    }
  return out;
}

export function composeProblems(c: ComposeInputs): string[] {
  const problems: string[] = [];
  const deployDir = join(c.root, 'deploy');
  const services = obj(c.compose.services);
  const names = new Set(Object.keys(services));
  const listening = new Map<string, number[]>();
  const configs = new Map<string, { command: string; config: Config }>();

  for (const [name, raw] of Object.entries(services)) {
    const s = obj(raw);
    const where = `compose ${name}`;
    const image = str(s.image) ?? '';
    const built = s.build !== undefined;
    if (built) {
      const b = obj(s.build);
      const dockerfile = join(deployDir, str(b.context) ?? '.', str(b.dockerfile) ?? 'Dockerfile');
      if (!existsSync(dockerfile)) problems.push(`${where}: build ${dockerfile} does not exist`);
      const cmd = commandProblems(where, arr(s.command));
      problems.push(...cmd.problems);
      const env = { ...c.imageEnv, ...composeEnv(s.environment) };
      const { problems: envP, config } = envProblems(where, env);
      problems.push(...envP);
      if (cmd.command && config) {
        configs.set(name, { command: cmd.command, config });
        const at = LISTENS[cmd.command]!(config);
        listening.set(name, at ? [at.port] : []);
        const ports = [...arr(s.ports).map(containerPort), ...arr(s.expose).map(Number)];
        for (const p of ports)
          if (p !== at?.port) problems.push(`${where}: publishes or exposes ${p}, but ${cmd.command} listens on ${at ? at.port : 'no port'}`);
        if (ports.length && at && LOOPBACK.test(at.host)) problems.push(`${where}: listens on ${at.host}, unreachable from outside its container`);
        // The image's health check asks /health on the port this process listens on (or nothing, if it serves none).
        const asks = c.healthCheck([...c.entrypoint, ...arr(s.command).map(String)], env);
        const u = asks ? new URL(asks) : undefined;
        if ((u ? Number(u.port) : 0) !== (at?.port ?? 0) || (u && (u.pathname !== '/health' || !c.serves[cmd.command]?.has(u.pathname))))
          problems.push(`${where}: the image's health check asks ${asks ?? 'nothing'}, but ${cmd.command} listens on ${at ? at.port : 'no port'}`);
      }
    } else {
      const env = composeEnv(s.environment);
      if (/^apache\/kafka/.test(image)) {
        const advertised = (env.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').map((l) => hostPort(l.replace(/^\w+:\/\//, '')));
        listening.set(
          name,
          advertised.filter((a) => a.host === name).map((a) => a.port),
        );
      } else listening.set(name, IMAGE_PORTS.find(([re]) => re.test(image))?.[1] ?? []);
      for (const p of arr(s.ports).map(containerPort))
        if (!listening.get(name)!.includes(p)) problems.push(`${where}: publishes ${p}, which ${image} does not serve`);
    }
    // depends_on names services of this file; waiting for healthy needs a health check to wait for.
    const deps = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [String(d), {}])) : obj(s.depends_on);
    for (const [dep, how] of Object.entries(deps)) {
      if (!names.has(dep)) problems.push(`${where}: depends_on ${dep}, which is not a service`);
      else if (obj(how).condition === 'service_healthy' && !obj(services[dep]).healthcheck && obj(services[dep]).build === undefined)
        problems.push(`${where}: waits for ${dep} to be healthy, which has no health check`);
    }
    // Bind mounts name files and folders of deploy/.
    for (const v of arr(s.volumes).map(String)) {
      const src = v.split(':')[0]!;
      if (src.startsWith('.') && !existsSync(join(deployDir, src))) problems.push(`${where}: mounts ${src}, which does not exist`);
    }
  }

  // Each engine process reaches the broker and its stores at services of this file, on ports they serve.
  const reach = (where: string, what: string, value: string, defaultPort?: number) => {
    const { host, port } = hostPort(value, defaultPort);
    if (!names.has(host)) problems.push(`${where}: ${what} ${value}: ${host} is not a service`);
    else if (!listening.get(host)?.includes(port)) problems.push(`${where}: ${what} ${value}: ${host} does not listen on ${port}`);
  };
  const storeUrl = { postgres: 'pgUrl', timescaledb: 'tsdbUrl', questdb: 'questdbPgUrl' } as const;
  for (const [name, { command, config }] of configs) {
    const where = `compose ${name}`;
    for (const b of config.kafkaBrokers) reach(where, 'TE_KAFKA_BROKERS', b);
    const stores = command === 'aggregate' ? config.sinks : command === 'gateway' ? [config.historyStore] : [];
    for (const store of stores) reach(where, `store ${store}`, config[storeUrl[store as keyof typeof storeUrl]], 5432);
    if (command === 'aggregate' && config.sinks.includes('questdb')) reach(where, 'TE_QUESTDB_HTTP', config.questdbHttp, 80);
  }

  // Prometheus scrapes the engine's services on their ports, under the job names the alerts know.
  const prom = Object.entries(services).find(([, s]) => /^prom\/prometheus/.test(str(obj(s).image) ?? ''));
  if (prom) {
    const [pname, ps] = prom;
    const configFile = arr(obj(ps).command)
      .map(String)
      .find((a) => a.startsWith('--config.file='))
      ?.slice('--config.file='.length);
    const mount = arr(obj(ps).volumes)
      .map(String)
      .map((v) => v.split(':'))
      .find(([, target]) => configFile?.startsWith(`${target}/`));
    if (!configFile || !mount) problems.push(`compose ${pname}: --config.file is not in a mounted folder`);
    else {
      const file = join(deployDir, mount[0]!, configFile.slice(mount[1]!.length + 1));
      if (!existsSync(file)) problems.push(`compose ${pname}: ${file} does not exist`);
      else {
        const pc = obj(parse(readFileSync(file, 'utf8')));
        for (const r of arr(pc.rule_files).map(String))
          if (!existsSync(join(dirname(file), r))) problems.push(`compose ${pname}: rule file ${r} does not exist`);
        for (const job of arr(pc.scrape_configs).map(obj)) {
          const jobName = str(job.job_name) ?? '';
          if (!c.alertJobs.has(jobName)) problems.push(`prometheus job ${jobName}: not a job the alerts know (${[...c.alertJobs].join(', ')})`);
          for (const t of arr(job.static_configs).flatMap((sc) => arr(obj(sc).targets).map(String))) {
            const { host, port } = hostPort(t);
            const target = configs.get(host);
            if (!target) problems.push(`prometheus job ${jobName}: target ${t} is not an engine service`);
            else if (LISTENS[target.command]!(target.config)?.port !== port)
              problems.push(`prometheus job ${jobName}: target ${t}, but ${host} listens on ${listening.get(host)?.join() || 'no port'}`);
          }
        }
      }
    }
  }

  // Grafana: its data source is this file's Prometheus; its dashboard provider reads where the dashboards are mounted.
  const graf = Object.entries(services).find(([, s]) => /^grafana\/grafana/.test(str(obj(s).image) ?? ''));
  if (graf) {
    const [gname, gs] = graf;
    const mounts = arr(obj(gs).volumes)
      .map(String)
      .map((v) => v.split(':'))
      .filter(([src]) => src!.startsWith('.'));
    const provisioning = mounts.find(([, target]) => target === '/etc/grafana/provisioning');
    if (!provisioning) problems.push(`compose ${gname}: nothing mounted at /etc/grafana/provisioning`);
    else {
      const dir = join(deployDir, provisioning[0]!);
      const yamlsIn = (sub: string) =>
        existsSync(join(dir, sub))
          ? readdirSync(join(dir, sub))
              .filter((f) => /\.ya?ml$/.test(f))
              .map((f) => obj(parse(readFileSync(join(dir, sub, f), 'utf8'))))
          : [];
      const sources = yamlsIn('datasources').flatMap((d) => arr(d.datasources).map(obj));
      if (!sources.some((d) => d.type === 'prometheus')) problems.push(`compose ${gname}: no Prometheus data source provisioned`);
      for (const d of sources.filter((d) => d.type === 'prometheus')) reach(`grafana data source ${str(d.name)}`, 'url', str(d.url) ?? '', 80);
      const paths = yamlsIn('dashboards').flatMap((d) => arr(d.providers).map((p) => str(obj(obj(p).options).path)));
      if (!paths.length) problems.push(`compose ${gname}: no dashboard provider provisioned`);
      for (const p of paths)
        if (!mounts.some(([, target]) => target === p)) problems.push(`compose ${gname}: dashboards provider reads ${p}, where nothing is mounted`);
      // A dashboard names a provisioned data source by uid (or name), or a datasource variable of its own; an
      // exported dashboard's ${DS_…} inputs are not resolved by provisioning.
      const uids = new Set(sources.map((d) => str(d.uid)));
      const dsNames = new Set(sources.map((d) => str(d.name)));
      for (const { file, json } of c.dashboards) {
        const vars = new Set(
          arr(obj(obj(json).templating).list)
            .map(obj)
            .filter((v) => v.type === 'datasource')
            .map((v) => String(v.name)),
        );
        const variable = (ref: string | undefined) => ref !== undefined && vars.has(ref.replace(/^\$\{?(\w+)\}?$/, '$1'));
        for (const ref of datasourceRefs(json)) {
          if (ref === null || ref === undefined) continue;
          const ok =
            typeof ref === 'string'
              ? dsNames.has(ref) || variable(ref)
              : ['-- Grafana --', 'grafana', 'datasource'].includes(String(obj(ref).type)) || uids.has(str(obj(ref).uid)) || variable(str(obj(ref).uid));
          if (!ok) problems.push(`grafana dashboard ${file}: data source ${JSON.stringify(ref)} is not provisioned`);
        }
      }
    }
  }
  // A published or probed engine path is one its server answers (compose probes through the image's health check).
  for (const [name, { command }] of configs)
    if (LISTENS[command]!(configs.get(name)!.config) && !c.serves[command]?.has('/health'))
      problems.push(`compose ${name}: ${command} does not answer /health`);
  return problems;
}

// ---------- Kubernetes ----------

/** Every document of the YAML files of a folder, with the file it came from. */
export function readManifests(dir: string): { file: string; doc: Obj }[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => obj(d.toJS()))
        .filter((d) => d.kind !== undefined)
        .map((doc) => ({ file, doc })),
    );
}

/** A Kubernetes quantity in base units (cpu in cores, memory in bytes). */
export function quantity(q: unknown): number {
  const m = /^([\d.]+)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(String(q));
  if (!m) return NaN;
  const unit = { m: 1e-3, k: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3, T: 1e12, Ti: 1024 ** 4 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

const matches = (selector: Obj, labels: Obj) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export interface K8sInputs {
  manifests: { file: string; doc: Obj }[];
  imageEnv: Record<string, string>;
  /** The image's USER id. */
  imageUid: number;
  serves: Record<string, Set<string>>;
}

export function k8sProblems(k: K8sInputs): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => k.manifests.filter((m) => m.doc.kind === kind);
  const name = (d: Obj) => str(obj(d.metadata).name) ?? '?';
  const configMaps = new Map(byKind('ConfigMap').map((m) => [name(m.doc), obj(m.doc.data)]));
  const deployments = byKind('Deployment').map((m) => m.doc);
  if (!deployments.length) problems.push('k8s: no Deployment');
  const portsOf = new Map<string, { name?: string; port: number }[]>();

  for (const d of deployments) {
    const dn = name(d);
    const spec = obj(d.spec);
    const pod = obj(obj(spec.template).spec);
    const labels = obj(obj(obj(spec.template).metadata).labels);
    if (!matches(obj(obj(spec.selector).matchLabels), labels)) problems.push(`k8s ${dn}: its selector does not match its pod labels`);
    const podSec = obj(pod.securityContext);
    for (const c of arr(pod.containers).map(obj)) {
      const where = `k8s ${dn}/${str(c.name)}`;
      if (c.command !== undefined) problems.push(`${where}: command replaces the image's ENTRYPOINT (the CLI); give the engine command in args`);
      const cmd = commandProblems(where, arr(c.args));
      problems.push(...cmd.problems);
      // The environment: the image's, then each envFrom in order (later wins), then env.
      const env: Record<string, string> = { ...k.imageEnv };
      for (const from of arr(c.envFrom).map(obj)) {
        const ref = obj(from.configMapRef);
        if (from.configMapRef === undefined) continue;
        const data = configMaps.get(str(ref.name) ?? '');
        if (!data) {
          if (ref.optional !== true) problems.push(`${where}: envFrom ConfigMap ${str(ref.name)}, which no manifest defines`);
          continue;
        }
        for (const [key, v] of Object.entries(data)) env[key] = str(v) ?? '';
      }
      for (const e of arr(c.env).map(obj)) env[str(e.name) ?? ''] = str(e.value) ?? '';
      const { problems: envP, config } = envProblems(where, env);
      problems.push(...envP);
      const ports = arr(c.ports)
        .map(obj)
        .map((p) => ({ ...(p.name !== undefined ? { name: String(p.name) } : {}), port: Number(p.containerPort) }));
      portsOf.set(dn, ports);
      if (!cmd.command || !config) continue;
      const at = LISTENS[cmd.command]!(config);
      if (!at) {
        problems.push(`${where}: ${cmd.command} serves no port with this configuration, so nothing can probe it`);
        continue;
      }
      if (LOOPBACK.test(at.host)) problems.push(`${where}: ${cmd.command} listens on ${at.host}: probes and Services cannot reach it`);
      for (const p of ports) if (p.port !== at.port) problems.push(`${where}: containerPort ${p.port}, but ${cmd.command} listens on ${at.port}`);
      if (!ports.length) problems.push(`${where}: no containerPort`);
      const resolve = (port: unknown) => (typeof port === 'number' ? port : ports.find((p) => p.name === port)?.port);
      // Liveness asks /health (restarting does not mend a store); readiness asks /ready; both on the process's port.
      const want = { startupProbe: '/health', livenessProbe: '/health', readinessProbe: '/ready' } as const;
      for (const [probe, path] of Object.entries(want)) {
        if (c[probe] === undefined) {
          if (probe !== 'startupProbe') problems.push(`${where}: no ${probe}`);
          continue;
        }
        const get = obj(obj(c[probe]).httpGet);
        const port = resolve(get.port);
        if (port !== at.port) problems.push(`${where}: ${probe} on port ${String(get.port)} (${port}), but ${cmd.command} listens on ${at.port}`);
        if (!k.serves[cmd.command]?.has(String(get.path))) problems.push(`${where}: ${probe} asks ${String(get.path)}, which ${cmd.command} does not answer`);
        else if (get.path !== path) problems.push(`${where}: ${probe} asks ${String(get.path)}, should ask ${path}`);
      }
      // Resources: requests and limits of cpu and memory, requests within limits.
      const res = obj(c.resources);
      for (const r of ['cpu', 'memory']) {
        const req = quantity(obj(res.requests)[r]);
        const lim = quantity(obj(res.limits)[r]);
        if (Number.isNaN(req) || Number.isNaN(lim)) problems.push(`${where}: resources.requests and .limits need ${r}`);
        else if (req > lim) problems.push(`${where}: ${r} request above its limit`);
      }
      // Not root, and no way to become it.
      const sec = { ...podSec, ...obj(c.securityContext) };
      if (sec.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if (sec.runAsUser !== undefined && (Number(sec.runAsUser) === 0 || Number(sec.runAsUser) !== k.imageUid))
        problems.push(`${where}: runAsUser ${String(sec.runAsUser)} is not the image's user ${k.imageUid}`);
      if (sec.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      // Aggregators beyond the ticks partitions would get no partition (deploy/k8s/README.md).
      if (cmd.command === 'aggregate' && Number(spec.replicas ?? 1) > config.ticksPartitions)
        problems.push(`${where}: ${String(spec.replicas)} replicas, more than the ${config.ticksPartitions} partitions of the ticks topic`);
    }
  }

  const selected = (sel: Obj, what: string) => {
    const hits = deployments.filter((d) => matches(sel, obj(obj(obj(obj(d.spec).template).metadata).labels)));
    if (hits.length !== 1) problems.push(`${what}: its selector matches ${hits.length} Deployments`);
    return hits[0];
  };
  for (const s of byKind('Service').map((m) => m.doc)) {
    const d = selected(obj(obj(s.spec).selector), `k8s Service ${name(s)}`);
    if (!d) continue;
    for (const p of arr(obj(s.spec).ports).map(obj)) {
      const target = p.targetPort ?? p.port;
      const ports = portsOf.get(name(d)) ?? [];
      if (!ports.some((cp) => (typeof target === 'number' ? cp.port === target : cp.name === target)))
        problems.push(`k8s Service ${name(s)}: targetPort ${String(target)} is no container port of ${name(d)}`);
    }
  }
  for (const p of byKind('PodDisruptionBudget').map((m) => m.doc)) {
    const spec = obj(p.spec);
    const d = selected(obj(obj(spec.selector).matchLabels), `k8s PodDisruptionBudget ${name(p)}`);
    if (spec.minAvailable === undefined && spec.maxUnavailable === undefined)
      problems.push(`k8s PodDisruptionBudget ${name(p)}: neither minAvailable nor maxUnavailable`);
    if (d && typeof spec.minAvailable === 'number' && spec.minAvailable >= Number(obj(d.spec).replicas ?? 1))
      problems.push(`k8s PodDisruptionBudget ${name(p)}: minAvailable ${spec.minAvailable} leaves no pod of ${name(d)} evictable`);
  }
  return problems;
}
