// The deploy artefacts no engine here can run — the Dockerfile, deploy/compose.yaml, deploy/k8s/ — checked against the
// engine itself: configuration keys and values by src/config.ts's own validation, ports by what each command listens
// on, probe paths by what the servers answer (the bare metrics server asked in process, the gateway's route table),
// the image's steps by the test command's own scripts. Every check is also shown to fail on a copy broken on purpose.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { healthUrl } from '../../src/cli/health-url.js';
import { startMetricsServer } from '../../src/metrics-server.js';
import { projectRoot } from '../../src/paths.js';
import {
  arr,
  composeProblems,
  dockerfileProblems,
  execForm,
  imageEnv,
  k8sProblems,
  obj,
  parseDockerfile,
  readManifests,
  runtimeReadsOfSrc,
  type ComposeInputs,
  type DockerInputs,
  type K8sInputs,
  type Obj,
} from '../helpers/deploy-artefacts.js';

const root = projectRoot();
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const clone = <T>(v: T): T => structuredClone(v);

// ---------- what the servers answer ----------

/** Paths the bare metrics server (aggregate, ingest --feed) answers with anything but 404, asked in process. */
async function metricsServerPaths(candidates: string[]): Promise<Set<string>> {
  const server = await startMetricsServer('127.0.0.1', 0);
  try {
    const answered = new Set<string>();
    for (const p of candidates) if ((await fetch(`http://127.0.0.1:${server.port}${p}`)).status !== 404) answered.add(p);
    return answered;
  } finally {
    await server.stop();
  }
}
/** The GET routes of a uWebSockets.js route table (src/gateway/server.ts, src/push/server.ts). */
const routes = (file: string) => new Set([...read(file).matchAll(/\.get\(\s*'(\/[^'*]*)'/g)].map((m) => m[1]!));

// ---------- the inputs ----------

const stages = parseDockerfile(read('Dockerfile'));
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };
const docker: DockerInputs = {
  root,
  stages,
  dockerignore: read('.dockerignore'),
  bin: pkg.bin['tick-engine']!,
  ensureDepsNpmCi: /^\s*npm ci[^\n]*/m.exec(read('scripts/ensure-deps.sh'))![0].trim(),
  outDir: (JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir,
  // What src/ reads from the project root, less what only a workstation uses.
  lifecycleScripts: ['preinstall', 'install', 'postinstall', 'prepare'].map((k) => pkg.scripts[k] ?? '').join('\n'),
  ensureDeps: read('scripts/ensure-deps.sh'),
  nativeAddon: existsSync(join(root, 'native/binding.gyp')),
  runtimeReads: runtimeReadsOfSrc(root, {
    'deploy/local/stack.sh': 'tick-engine up/down: the local stack, not in a container',
    'bench/results': 'tick-engine load writes its reports there (--out elsewhere in a container)',
    'dist/src/cli/main.js': 'compiled: copied from the build stage',
  }),
};
const env = imageEnv(stages);
const imageUid = Number(
  stages
    .at(-1)!
    .steps.filter((s) => s.op === 'USER')
    .at(-1)
    ?.args.split(':')[0],
);
const compose = obj(parse(read('deploy/compose.yaml'), { merge: true }));
const alertJobs = new Set(arr(obj(parse(read('deploy/prometheus/prometheus.yml'))).scrape_configs).map((j) => String(obj(j).job_name)));
const manifests = readManifests(join(root, 'deploy/k8s'));

async function serves(): Promise<Record<string, Set<string>>> {
  const probed = manifests.flatMap(({ doc }) =>
    arr(obj(obj(obj(doc.spec).template).spec).containers).flatMap((c) =>
      ['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => String(obj(obj(obj(c)[p]).httpGet).path)),
    ),
  );
  const bare = await metricsServerPaths([...new Set(['/health', '/ready', '/metrics', '/healthz', ...probed])]);
  return { aggregate: bare, ingest: bare, gateway: routes('src/gateway/server.ts'), 'push-gateway': routes('src/push/server.ts') };
}

t.test('the servers answer /health and /ready (what the probes are checked against)', async (t) => {
  const s = await serves();
  for (const [cmd, paths] of Object.entries(s)) t.ok(paths.has('/health') && paths.has('/ready'), `${cmd}: ${[...paths].join(' ')}`);
  t.notOk(s.aggregate!.has('/healthz'), 'the metrics server says 404 to a path it does not serve');
});

// ---------- Dockerfile ----------

t.test('Dockerfile: non-root, copies files that exist and are in the context, the test scripts, the CLI, its health check', async (t) => {
  t.same(docker.runtimeReads, ['bench/scenarios', 'native', 'package.json', 'schemas', 'src/gateway/public/index.html'], 'what the engine reads from its root');
  t.same(dockerfileProblems(docker), []);
  t.equal(imageUid, 1000, "the node image's node user");
  t.same(env, { NODE_ENV: 'production', TE_GATEWAY_HOST: '0.0.0.0', TE_PUSH_HOST: '0.0.0.0' });
});

t.test('Dockerfile: each check fails on a broken copy', async (t) => {
  const broken = (edit: (text: string) => string, extra: Partial<DockerInputs> = {}) =>
    dockerfileProblems({ ...docker, stages: parseDockerfile(edit(read('Dockerfile'))), ...extra });
  const cases: [string, string[], RegExp][] = [
    ['no USER', broken((d) => d.replace(/^USER .*$/m, '')), /runs as root \(no USER\)/],
    ['USER by name', broken((d) => d.replace(/^USER .*$/m, 'USER node')), /USER node is not numeric/],
    ['USER 0', broken((d) => d.replace(/^USER .*$/m, 'USER 0:0')), /USER 0 is root/],
    ['a missing file', broken((d) => d.replace('COPY schemas/ schemas/', 'COPY schema/ schemas/')), /COPY schema\/: no such file/],
    [
      'an ignored file',
      broken((d) => d, { dockerignore: docker.dockerignore + '\nschemas\n' }),
      /COPY schemas\/: excluded from the build context by \.dockerignore 'schemas'/,
    ],
    [
      'an ignored file by glob',
      broken((d) => d, { dockerignore: docker.dockerignore + '\nsrc/gateway/*\n' }),
      /COPY src\/gateway\/public\/: excluded .* 'src\/gateway\/\*'/,
    ],
    ['a trailing comment in .dockerignore', broken((d) => d, { dockerignore: 'dist   # built\n' }), /'dist   # built' — a comment after a pattern/],
    [
      'a lifecycle script not copied',
      broken((d) =>
        d
          .replace('COPY scripts/ensure-deps.sh scripts/build-native.sh scripts/', 'COPY scripts/ensure-deps.sh scripts/')
          .replace(/^COPY scripts\/build-native\.sh scripts\/$/m, ''),
      ),
      /stage build installs, .* use scripts\/build-native\.sh, which it does not copy[\s\S]*stage deps installs, .* use scripts\/build-native\.sh/,
    ],
    [
      'ensure-deps.sh naming a file not copied',
      broken((d) => d, { ensureDeps: 'bash scripts/make-something.sh' }),
      /stage build installs, .* use scripts\/make-something\.sh, which it does not copy/,
    ],
    ['patches not copied', broken((d) => d.replace(/^COPY patches\/ patches\/$/m, '')), /stage build installs, .* use patches, which it does not copy/],
    ['a native addon without its toolchain', broken((d) => d.replace(/^RUN apt-get update .*$/m, '')), /native\/binding\.gyp is an addon to build/],
    [
      'a native addon not in the image',
      broken((d) => d.replace(/^COPY --from=build \/app\/native\/build\/Release\/ .*$/m, '')),
      /native\/binding\.gyp is an addon to build/,
    ],
    ['a runtime read not copied', broken((d) => d.replace('COPY bench/scenarios/ bench/scenarios/', '')), /does not copy bench\/scenarios/],
    ['--from an unknown stage', broken((d) => d.replace('--from=deps', '--from=dep')), /COPY --from=dep: no earlier stage/],
    ['build without ensure-deps.sh', broken((d) => d.replace('bash scripts/ensure-deps.sh', 'npm ci && npx tsc')), /no stage runs scripts\/ensure-deps\.sh/],
    [
      'another npm ci',
      broken((d) => d.replace('npm ci --omit=dev --no-audit', 'npm ci --omit=dev --ignore-scripts --no-audit')),
      /differs from ensure-deps\.sh's/,
    ],
    ['another entry point', broken((d) => d.replace('"dist/src/cli/main.js"]', '"dist/src/cli/mian.js"]')), /ENTRYPOINT is not/],
    [
      'a health check of no script',
      broken((d) => d.replace('dist/src/cli/healthcheck.js', 'dist/src/cli/health.js')),
      /HEALTHCHECK runs dist\/src\/cli\/health\.js/,
    ],
    [
      'a shell-form health check',
      broken((d) => d.replace(/CMD \["node", "dist\/src\/cli\/healthcheck\.js"\]/, 'CMD curl -f http://localhost:8088/health')),
      /no HEALTHCHECK CMD/,
    ],
    ['an unknown ENV key', broken((d) => d.replace('TE_PUSH_HOST=0.0.0.0', 'TE_PUSH_HOSTS=0.0.0.0')), /TE_PUSH_HOSTS is not a configuration key/],
    [
      'an ENV value the engine refuses',
      broken((d) => d.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production TE_METRICS_PORT=70000')),
      /TE_METRICS_PORT: must be <= 65535/,
    ],
    ['EXPOSE of another port', broken((d) => d.replace('EXPOSE 8088 9464', 'EXPOSE 8080 9464')), /EXPOSE 8080 9464 9465 8089, the processes listen on/],
  ];
  for (const [what, problems, want] of cases) t.match(problems.join('\n'), want, what);
});

// ---------- compose ----------

const entrypoint = execForm(
  stages
    .at(-1)!
    .steps.filter((s) => s.op === 'ENTRYPOINT')
    .at(-1)!.args,
)!;
const dashboardsDir = join(root, 'deploy/grafana/dashboards');
const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, json: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as unknown }));
const composeInputs = async (c: Obj = compose, healthCheck = healthUrl, boards = dashboards): Promise<ComposeInputs> => ({
  root,
  compose: c,
  imageEnv: env,
  serves: await serves(),
  alertJobs,
  entrypoint,
  healthCheck,
  dashboards: boards,
});

t.test('compose: keys and values the engine accepts, ports it listens on, services that exist, files that exist', async (t) => {
  const services = obj(compose.services);
  t.same(Object.keys(services).sort(), ['aggregate', 'gateway', 'grafana', 'ingest', 'kafka', 'prometheus', 'questdb', 'timescaledb']);
  t.same(
    Object.entries(services)
      .filter(([, s]) => obj(s).build !== undefined)
      .map(([n, s]) => `${n}: ${arr(obj(s).command).join(' ')}`),
    ['ingest: ingest', 'aggregate: aggregate', 'gateway: gateway'],
    'the engine processes, merged from x-engine',
  );
  t.equal(obj(obj(services.aggregate).environment).TE_KAFKA_BROKERS, 'kafka:9092', 'x-engine-env merged into each');
  t.same(
    ['ingest', 'aggregate', 'gateway'].map((n) => healthUrl([...entrypoint, n], { ...env, ...(obj(obj(services[n]).environment) as Record<string, string>) })),
    [undefined, 'http://127.0.0.1:9464/health', 'http://127.0.0.1:8088/health'],
    "what the image's health check asks in each",
  );
  t.same(composeProblems(await composeInputs()), []);
});

t.test('compose: each check fails on a broken copy', async (t) => {
  const broken = async (edit: (c: Obj) => void, healthCheck = healthUrl) => {
    const c = clone(compose);
    edit(c);
    return composeProblems(await composeInputs(c, healthCheck)).join('\n');
  };
  const svc = (c: Obj, n: string) => obj(obj(c.services)[n]);
  const envOf = (c: Obj, n: string) => obj(svc(c, n).environment);
  t.match(await broken((c) => (envOf(c, 'aggregate').TE_METRIC_PORT = '9464')), /compose aggregate: TE_METRIC_PORT is not a configuration key/);
  t.match(
    await broken((c) => (envOf(c, 'gateway').TE_HISTORY_STORE = 'influx')),
    /compose gateway: .*TE_HISTORY_STORE: must be one of postgres, timescaledb, questdb/,
  );
  t.match(await broken((c) => (envOf(c, 'aggregate').TE_METRICS_PORT = '9465')), /compose aggregate: publishes or exposes 9464, but aggregate listens on 9465/);
  t.match(await broken((c) => (svc(c, 'gateway').ports = ['127.0.0.1:8080:8080'])), /compose gateway: publishes or exposes 8080, but gateway listens on 8088/);
  t.match(await broken((c) => (svc(c, 'ingest').ports = ['9465:9465'])), /compose ingest: publishes or exposes 9465, but ingest listens on no port/);
  t.match(await broken((c) => (envOf(c, 'gateway').TE_GATEWAY_HOST = '127.0.0.1')), /compose gateway: listens on 127\.0\.0\.1, unreachable/);
  t.match(await broken((c) => (svc(c, 'gateway').command = ['gateway', '--gateway-port', '9000'])), /configuration flags --gateway-port/);
  t.match(await broken((c) => (svc(c, 'gateway').command = ['serve'])), /compose gateway: runs 'serve'/);
  t.match(await broken((c) => (obj(svc(c, 'aggregate').depends_on).kafak = { condition: 'service_started' })), /depends_on kafak, which is not a service/);
  t.match(await broken((c) => delete svc(c, 'timescaledb').healthcheck), /compose aggregate: waits for timescaledb to be healthy, which has no health check/);
  t.match(await broken((c) => (envOf(c, 'aggregate').TE_TSDB_URL = 'postgres://postgres:x@tsdb:5432/postgres')), /store timescaledb .*: tsdb is not a service/);
  t.match(
    await broken((c) => (envOf(c, 'aggregate').TE_SINKS = 'postgres,questdb')),
    /compose aggregate: store postgres postgres:\/\/postgres@127\.0\.0\.1:15432\/postgres: 127\.0\.0\.1 is not a service/,
  );
  t.match(
    await broken((c) => (envOf(c, 'ingest').TE_KAFKA_BROKERS = 'kafka:19092')),
    /compose ingest: TE_KAFKA_BROKERS kafka:19092: kafka does not listen on 19092/,
  );
  t.match(
    await broken((c) => (envOf(c, 'aggregate').TE_QUESTDB_HTTP = 'http://questdb:9001')),
    /TE_QUESTDB_HTTP http:\/\/questdb:9001: questdb does not listen on 9001/,
  );
  t.match(await broken((c) => (svc(c, 'questdb').ports = ['9001:9001'])), /compose questdb: publishes 9001, which questdb\/questdb:9\.2\.3 does not serve/);
  t.match(
    await broken(
      (c) => (svc(c, 'grafana').volumes = ['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashbords:/etc/grafana/dashboards:ro']),
    ),
    /mounts \.\/grafana\/dashbords, which does not exist/,
  );
  t.match(
    await broken((c) => (svc(c, 'grafana').volumes = ['./grafana/provisioning:/etc/grafana/provisioning:ro'])),
    /dashboards provider reads \/etc\/grafana\/dashboards, where nothing is mounted/,
  );
  t.match(
    await broken((c) => (svc(c, 'prometheus').command = ['--config.file=/etc/prometheus/prometheus.compose.yaml'])),
    /prometheus\.compose\.yaml does not exist/,
  );
  t.match(
    await broken(
      (c) =>
        (svc(c, 'prometheus').image = 'prom/prometheus:v2.53.4') &&
        (svc(c, 'aggregate').command = ['aggregate']) &&
        (envOf(c, 'aggregate').TE_METRICS_PORT = '9400'),
    ),
    /prometheus job aggregator: target aggregate:9464, but aggregate listens on 9400/,
  );
  t.match(await broken((c) => (svc(c, 'prometheus').ports = ['9091:9091'])), /compose prometheus: publishes 9091/);
  const panel = (datasource: unknown) => ({ panels: [{ targets: [{ expr: 'up', datasource }] }], templating: { list: [{ type: 'datasource', name: 'ds' }] } });
  const boards = async (...json: unknown[]) =>
    composeProblems(
      await composeInputs(
        compose,
        healthUrl,
        json.map((j, i) => ({ file: `d${i}.json`, json: j })),
      ),
    ).join('\n');
  t.equal(
    await boards(panel({ type: 'prometheus', uid: 'prometheus' }), panel('Prometheus'), panel({ uid: '${ds}' }), panel('$ds')),
    '',
    'by uid, name or variable',
  );
  t.match(await boards(panel({ type: 'prometheus', uid: '${DS_PROMETHEUS}' })), /grafana dashboard d0\.json: data source .*DS_PROMETHEUS.* is not provisioned/);
  t.match(
    await boards(panel({ type: 'prometheus', uid: 'prom' })),
    /grafana dashboard d0\.json: data source \{"type":"prometheus","uid":"prom"\} is not provisioned/,
  );
  const offBy =
    (shift: number, path = '/health') =>
    (cmdline: readonly string[], e: NodeJS.ProcessEnv) => {
      const u = healthUrl(cmdline, e);
      return u && u.replace(/:(\d+)\/health$/, (_, p: string) => `:${Number(p) + shift}${path}`);
    };
  t.match(
    await broken(() => undefined, offBy(1)),
    /compose aggregate: the image's health check asks http:\/\/127\.0\.0\.1:9465\/health, but aggregate listens on 9464/,
  );
  t.match(await broken(() => undefined, offBy(0, '/healthz')), /compose gateway: the image's health check asks http:\/\/127\.0\.0\.1:8088\/healthz/);
  t.match(
    await broken(
      () => undefined,
      (cl, e) => healthUrl(cl, e) ?? 'http://127.0.0.1:9465/health',
    ),
    /compose ingest: the image's health check asks http:\/\/127\.0\.0\.1:9465\/health, but ingest listens on no port/,
  );
});

t.test("compose: Prometheus's own checker accepts the scrape file it mounts (promtool check config, with its rules)", async (t) => {
  // Debian's promtool, as in tests/deploy/prometheus.test.ts (scripts/test.sh installs it); TE_PROMTOOL overrides.
  const { stdout } = await promisify(execFile)(process.env.TE_PROMTOOL ?? '/usr/bin/promtool', ['check', 'config', 'prometheus.compose.yml'], {
    cwd: join(root, 'deploy/prometheus'),
  });
  t.match(stdout, /SUCCESS: 1 rule files found[\s\S]*SUCCESS: prometheus\.compose\.yml is valid/);
});

t.test('compose: the Prometheus scrape file and the Grafana data source it mounts are the ones checked', async (t) => {
  const pc = obj(parse(read('deploy/prometheus/prometheus.compose.yml')));
  t.same(
    arr(pc.scrape_configs).map((j) => `${String(obj(j).job_name)} ${arr(obj(arr(obj(j).static_configs)[0]).targets).join()}`),
    ['aggregator aggregate:9464', 'gateway gateway:8088'],
  );
  const ds = obj(parse(read('deploy/grafana/provisioning/datasources/prometheus.yaml')));
  t.same(
    arr(ds.datasources).map((d) => [obj(d).type, obj(d).url, obj(d).uid]),
    [['prometheus', 'http://prometheus:9090', 'prometheus']],
  );
});

// ---------- Kubernetes ----------

const k8sInputs = async (m = manifests): Promise<K8sInputs> => ({ manifests: m, imageEnv: env, imageUid, serves: await serves() });

t.test('k8s: keys and values the engine accepts, probes on its ports and paths, selectors, resources, non-root, replicas', async (t) => {
  t.same(
    manifests.map((m) => `${m.file} ${String(m.doc.kind)} ${String(obj(m.doc.metadata).name)}`),
    [
      'aggregator.yaml Deployment tick-engine-aggregator',
      'aggregator.yaml Service tick-engine-aggregator',
      'aggregator.yaml PodDisruptionBudget tick-engine-aggregator',
      'configmap.yaml ConfigMap tick-engine-config',
      'gateway.yaml Deployment tick-engine-gateway',
      'gateway.yaml Service tick-engine-gateway',
      'gateway.yaml PodDisruptionBudget tick-engine-gateway',
    ],
  );
  t.same(k8sProblems(await k8sInputs()), []);
});

t.test('k8s: each check fails on a broken copy', async (t) => {
  const broken = async (edit: (docs: Obj[]) => void) => {
    const m = clone(manifests);
    edit(m.map((x) => x.doc));
    return k8sProblems(await k8sInputs(m)).join('\n');
  };
  const find = (docs: Obj[], kind: string, name: string) => docs.find((d) => d.kind === kind && obj(d.metadata).name === name)!;
  const podSpec = (docs: Obj[], name: string) => obj(obj(obj(find(docs, 'Deployment', name).spec).template).spec);
  const container = (docs: Obj[], name: string) => obj(arr(podSpec(docs, name).containers)[0]);
  const agg = 'tick-engine-aggregator';
  const gw = 'tick-engine-gateway';
  const data = (docs: Obj[]) => obj(find(docs, 'ConfigMap', 'tick-engine-config').data);
  const probe = (docs: Obj[], name: string, p: string) => obj(obj(container(docs, name)[p]).httpGet);
  t.match(await broken((d) => (data(d).TE_AGGREGATOR_WORKERS = '2')), /TE_AGGREGATOR_WORKERS is not a configuration key/);
  t.match(await broken((d) => (data(d).TE_AGG_WORKERS = '-1')), /TE_AGG_WORKERS: must be >= 0/);
  t.match(await broken((d) => (data(d).TE_GATEWAY_HOST = '127.0.0.1')), /gateway listens on 127\.0\.0\.1: probes and Services cannot reach it/);
  t.match(
    await broken((d) => (data(d).TE_METRICS_PORT = '9000')),
    /containerPort 9464, but aggregate listens on 9000[\s\S]*livenessProbe on port metrics \(9464\), but aggregate listens on 9000/,
  );
  t.match(await broken((d) => (data(d).TE_METRICS_PORT = '0')), /aggregate serves no port with this configuration/);
  t.match(await broken((d) => (probe(d, agg, 'readinessProbe').port = 9465)), /readinessProbe on port 9465 \(9465\), but aggregate listens on 9464/);
  t.match(await broken((d) => (probe(d, gw, 'livenessProbe').port = 'metrics')), /livenessProbe on port metrics \(undefined\), but gateway listens on 8088/);
  t.match(await broken((d) => (probe(d, gw, 'readinessProbe').path = '/healthz')), /readinessProbe asks \/healthz, which gateway does not answer/);
  t.match(await broken((d) => (probe(d, agg, 'readinessProbe').path = '/healthz')), /readinessProbe asks \/healthz, which aggregate does not answer/);
  t.match(await broken((d) => (probe(d, agg, 'livenessProbe').path = '/ready')), /livenessProbe asks \/ready, should ask \/health/);
  t.match(await broken((d) => delete container(d, gw).readinessProbe), /gateway: no readinessProbe/);
  t.match(
    await broken((d) => (find(d, 'Deployment', agg).spec = { ...obj(find(d, 'Deployment', agg).spec), replicas: 7 })),
    /7 replicas, more than the 6 partitions of the ticks topic/,
  );
  t.match(await broken((d) => (data(d).TE_TICKS_PARTITIONS = '2')), /3 replicas, more than the 2 partitions/);
  t.match(await broken((d) => (obj(container(d, gw).resources).limits = { cpu: '2' })), /gateway: resources.requests and .limits need memory/);
  t.match(await broken((d) => (obj(container(d, agg).resources).requests = { cpu: '4', memory: '512Mi' })), /cpu request above its limit/);
  t.match(await broken((d) => (obj(podSpec(d, gw).securityContext).runAsNonRoot = false)), /gateway: runAsNonRoot is not true/);
  t.match(await broken((d) => (obj(podSpec(d, gw).securityContext).runAsUser = 0)), /runAsUser 0 is not the image's user 1000/);
  t.match(await broken((d) => (obj(container(d, agg).securityContext).allowPrivilegeEscalation = true)), /allowPrivilegeEscalation is not false/);
  t.match(await broken((d) => (container(d, gw).command = ['node', 'x.js'])), /command replaces the image's ENTRYPOINT/);
  t.match(await broken((d) => (container(d, gw).args = ['gateway', '--gateway-port=9000'])), /configuration flags --gateway-port=9000/);
  t.match(
    await broken((d) => (obj(arr(container(d, gw).envFrom)[0]).configMapRef = { name: 'tick-engine-cfg' })),
    /envFrom ConfigMap tick-engine-cfg, which no manifest defines/,
  );
  t.match(
    await broken((d) => (obj(find(d, 'Service', gw).spec).selector = { app: 'gateway' })),
    /Service tick-engine-gateway: its selector matches 0 Deployments/,
  );
  t.match(
    await broken((d) => (obj(arr(obj(find(d, 'Service', gw).spec).ports)[0]).targetPort = 'web')),
    /targetPort web is no container port of tick-engine-gateway/,
  );
  t.match(
    await broken((d) => (obj(find(d, 'PodDisruptionBudget', gw).spec).minAvailable = 2)),
    /minAvailable 2 leaves no pod of tick-engine-gateway evictable/,
  );
  t.match(
    await broken((d) => (obj(obj(find(d, 'PodDisruptionBudget', agg).spec).selector).matchLabels = { x: 'y' })),
    /PodDisruptionBudget tick-engine-aggregator: its selector matches 0 Deployments/,
  );
});
