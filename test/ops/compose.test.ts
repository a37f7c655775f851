/**
 * docker-compose.yml, checked through Docker Compose itself (scripts/compose.sh: the docker compose
 * plugin, else a verified Debian build of it in .cache/tools). `docker compose config` resolves
 * anchors, interpolation and profiles without a Docker engine; no container is started here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
/** The first run downloads Docker Compose (about 13 MB) from Debian. */
const DOWNLOAD_TIMEOUT_MS = 600_000;

/** The secrets docker-compose.yml refuses to run without. */
const REQUIRED = { POSTGRES_PASSWORD: 'test-postgres-password', API_TOKEN_SECRET: 'test-token-secret' } as const;

interface Healthcheck {
  test?: string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}
interface Port {
  host_ip?: string;
  target: number;
  published?: string | number;
}
interface Dependency {
  condition: string;
  required?: boolean;
}
interface Service {
  image?: string;
  build?: { context: string };
  command?: string[] | null;
  container_name?: string;
  environment?: Record<string, string | null>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, Dependency>;
  ports?: Port[];
  expose?: (string | number)[];
  profiles?: string[];
  restart?: string;
  scale?: number;
  deploy?: { replicas?: number } | null;
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
}
interface Model {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** A long-running app service: its npm script, where it listens, and what its health check asks. */
interface AppService {
  script: string;
  args?: string[];
  hostEnv: string;
  portEnv: string;
  port: number;
  path: string;
  uses: ('redis' | 'postgres' | 'kubo')[];
}

const APP: Record<string, AppService> = {
  sequencer: { script: 'sequencer', hostEnv: 'SEQUENCER_HOST', portEnv: 'SEQUENCER_PORT', port: 8550, path: '/v1/health', uses: ['redis'] },
  prover: { script: 'prover', hostEnv: 'PROVER_HOST', portEnv: 'PROVER_PORT', port: 8551, path: '/health', uses: ['redis'] },
  settler: { script: 'settler', hostEnv: 'SETTLER_HOST', portEnv: 'SETTLER_PORT', port: 8552, path: '/health', uses: ['redis'] },
  indexer: { script: 'indexer', hostEnv: 'INDEXER_HOST', portEnv: 'INDEXER_PORT', port: 42069, path: '/ready', uses: ['postgres'] },
  api: { script: 'api', hostEnv: 'API_HOST', portEnv: 'API_PORT', port: 4000, path: '/health', uses: ['redis', 'kubo'] },
  relayer: { script: 'relay', args: ['relayer'], hostEnv: 'VALIDATOR_HOST', portEnv: 'RELAYER_PORT', port: 8569, path: '/health', uses: [] },
};
for (const i of [0, 1, 2, 3]) {
  // Validator i serves on VALIDATOR_PORT + i: the env names the base port, the check its own.
  APP[`validator-${i}`] = { script: 'relay', args: ['validator', String(i)], hostEnv: 'VALIDATOR_HOST', portEnv: 'VALIDATOR_PORT', port: 8560 + i, path: '/health', uses: [] };
}
const APP_NAMES = Object.keys(APP);
/** Every service built from the project's image that reads the deployment. */
const FROM_IMAGE = ['deploy', ...APP_NAMES];
const INFRA = ['postgres', 'redis', 'kubo'];
const DEVNET = ['settlement', 'partner'];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs scripts/compose.sh on docker-compose.yml with only `env` (plus PATH, HOME and proxies) in
 * its environment, and an empty env file: a developer's shell or .env cannot change the result.
 */
function compose(args: string[], env: Record<string, string>): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'compose-test-'));
  dirs.push(dir);
  const envFile = join(dir, 'empty.env');
  writeFileSync(envFile, '');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && /^(PATH|HOME|TMPDIR|DOCKER_CONFIG|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY)$/.test(e[0]),
    ),
  );
  return runTool('compose.sh', ['-f', COMPOSE_FILE, '--env-file', envFile, ...args], { cwd: ROOT, env: { ...inherited, ...env } });
}

/** Runs one of the project's tool scripts (scripts/<script>) with bash and collects its output. */
function runTool(script: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'scripts', script), ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The resolved model; `global` are options before the subcommand (--profile). */
async function config(global: string[], env: Record<string, string> = {}): Promise<Model> {
  const run = await compose([...global, 'config', '--format', 'json'], { ...REQUIRED, ...env });
  if (run.code !== 0) throw new Error(`compose config exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Model;
}

async function serviceList(global: string[]): Promise<string[]> {
  const run = await compose([...global, 'config', '--services'], { ...REQUIRED });
  if (run.code !== 0) throw new Error(`compose config --services exited ${run.code}: ${run.stderr}`);
  return run.stdout.split('\n').map((s) => s.trim()).filter(Boolean).sort();
}

function service(model: Model, name: string): Service {
  const s = model.services[name];
  if (!s) throw new Error(`no service ${name} (have ${Object.keys(model.services).join(', ')})`);
  return s;
}

/** `npm run <script> [-- args]` of a service, or undefined when the command is something else. */
function npmRun(s: Service): { script: string; args: string[] } | undefined {
  const cmd = s.command ?? [];
  if (cmd[0] !== 'npm' || cmd[1] !== 'run' || cmd[2] === undefined) return undefined;
  const rest = cmd.slice(3);
  return { script: cmd[2], args: rest[0] === '--' ? rest.slice(1) : rest };
}

describe('docker-compose.yml', () => {
  let model: Model;
  let devnet: Model;

  beforeAll(async () => {
    // Sequential: the first call may download Docker Compose; the others reuse it.
    model = await config([]);
    devnet = await config(['--profile', 'devnet']);
  }, DOWNLOAD_TIMEOUT_MS);

  it('validates (config --quiet) and is the medrollup project', async () => {
    const run = await compose(['config', '--quiet'], { ...REQUIRED });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(model.name).toBe('medrollup');
  });

  it('has every service: infrastructure, deploy, sequencer, provers, settler, indexer, API, validators, relayer', () => {
    expect(Object.keys(model.services).sort()).toEqual([...INFRA, ...FROM_IMAGE].sort());
    expect(Object.keys(devnet.services).sort()).toEqual([...INFRA, ...DEVNET, ...FROM_IMAGE].sort());
    expect(service(model, 'postgres').image).toMatch(/^postgres:16/);
    expect(service(model, 'redis').image).toMatch(/^redis:7/);
    expect(service(model, 'kubo').image).toMatch(/^ipfs\/kubo:/);
  });

  it('runs the devnet chains only with the devnet profile', async () => {
    const plain = await serviceList([]);
    const withDevnet = await serviceList(['--profile', 'devnet']);
    for (const chain of DEVNET) {
      expect(plain).not.toContain(chain);
      expect(withDevnet).toContain(chain);
      expect(service(devnet, chain).profiles).toEqual(['devnet']);
    }
    expect(withDevnet).toEqual([...plain, ...DEVNET].sort());
    // Local anvil chains from the project's image, each checked with eth_chainId on its own port.
    for (const [name, port, chainId] of [['settlement', 8545, 31337], ['partner', 8546, 31338]] as const) {
      const s = service(devnet, name);
      const cmd = (s.command ?? []).join(' ');
      expect(cmd).toMatch(/^node_modules\/\.bin\/anvil /);
      expect(cmd).toContain(`--port ${port}`);
      expect(cmd).toContain(`--chain-id ${chainId}`);
      expect(cmd).toContain('--host 0.0.0.0');
      const test = (s.healthcheck?.test ?? []).join(' ');
      expect(test).toContain(`http://127.0.0.1:${port}`);
      expect(test).toContain('eth_chainId');
    }
    // Without the profile, deploy's dependency on them is optional (external chains instead).
    for (const chain of DEVNET) expect(service(model, 'deploy').depends_on?.[chain]).toEqual({ condition: 'service_healthy', required: false });
  });

  it('gives every long-running service a health check on the port it listens on', () => {
    for (const [name, app] of Object.entries(APP)) {
      const s = service(model, name);
      const env = s.environment ?? {};
      expect([name, env[app.hostEnv]]).toEqual([name, '0.0.0.0']);
      const listens = app.portEnv === 'VALIDATOR_PORT' ? Number(env.VALIDATOR_PORT) + Number(app.args![1]) : Number(env[app.portEnv]);
      expect([name, listens]).toEqual([name, app.port]);
      expect([name, (s.expose ?? []).map(String)]).toEqual([name, [String(app.port)]]);
      const hc = s.healthcheck;
      expect(hc?.disable).toBeFalsy();
      expect(hc?.test?.[0]).toBe('CMD');
      expect([name, hc?.test?.join(' ')]).toEqual([name, expect.stringContaining(`http://127.0.0.1:${app.port}${app.path}'`)]);
      expect(hc?.interval).toBeDefined();
      expect(hc?.timeout).toBeDefined();
      expect(hc?.retries).toBeGreaterThan(0);
      expect(hc?.start_period).toBeDefined();
      expect(s.restart).toBe('unless-stopped');
    }
    expect(service(model, 'postgres').healthcheck?.test?.join(' ')).toContain('pg_isready');
    expect(service(model, 'redis').healthcheck?.test?.join(' ')).toMatch(/redis-cli .*ping/);
    expect(service(model, 'kubo').healthcheck?.test?.join(' ')).toMatch(/ipfs .*tcp\/5001 id/);
  });

  it('runs npm scripts that exist in package.json, each service its own', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = FROM_IMAGE.map((name) => [name, npmRun(service(model, name))] as const);
    for (const [name, run] of named) {
      expect([name, run?.script]).toEqual([name, expect.any(String)]);
      expect([name, Object.keys(scripts)]).toEqual([name, expect.arrayContaining([run!.script])]);
      const want = name === 'deploy' ? { script: 'deploy', args: [] } : { script: APP[name]!.script, args: APP[name]!.args ?? [] };
      expect([name, run]).toEqual([name, want]);
    }
  });

  it('builds one image for all app services, with the data volume and the shared environment', () => {
    const images = new Set<string | undefined>();
    for (const name of FROM_IMAGE) {
      const s = service(model, name);
      images.add(s.image);
      expect(s.build?.context).toBe(ROOT);
      expect(s.volumes).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'volume', source: 'data', target: '/data' })]));
      expect([name, s.environment]).toEqual([
        name,
        expect.objectContaining({
          DATA_DIR: '/data',
          DEPLOYMENT_FILE: '/data/deployment.json',
          CIRCUIT_CACHE_DIR: '/data/circuits',
          CIRCUIT_PROFILE: 'dev',
          REDIS_URL: 'redis://redis:6379',
          SETTLEMENT_RPC_URL: 'http://settlement:8545',
          PARTNER_RPC_URL: 'http://partner:8546',
          SETTLEMENT_CHAIN_ID: '31337',
          PARTNER_CHAIN_ID: '31338',
          LOG_FORMAT: 'json',
          // Unset keys are passed on empty: the app then uses its devnet defaults.
          DEPLOYER_KEY: '',
          OPERATOR_KEY: '',
          RELAYER_KEY: '',
          VALIDATOR_KEYS: '',
        }),
      ]);
    }
    expect([...images]).toEqual(['medrollup:latest']);
    expect(model.volumes).toEqual(expect.objectContaining({ data: expect.anything() }));
  });

  it('passes chain RPC URLs, chain ids and keys from the environment into every app service', async () => {
    const env = {
      SETTLEMENT_RPC_URL: 'https://settlement.rpc.example/v1',
      PARTNER_RPC_URL: 'https://partner.rpc.example/v1',
      SETTLEMENT_CHAIN_ID: '11155111',
      PARTNER_CHAIN_ID: '84532',
      OPERATOR_KEY: `0x${'11'.repeat(32)}`,
      MEDROLLUP_VERSION: '1.2.3',
    };
    const external = await config([], env);
    for (const name of FROM_IMAGE) {
      const s = service(external, name);
      expect([name, s.environment]).toEqual([
        name,
        expect.objectContaining({
          SETTLEMENT_RPC_URL: env.SETTLEMENT_RPC_URL,
          PARTNER_RPC_URL: env.PARTNER_RPC_URL,
          SETTLEMENT_CHAIN_ID: env.SETTLEMENT_CHAIN_ID,
          PARTNER_CHAIN_ID: env.PARTNER_CHAIN_ID,
          OPERATOR_KEY: env.OPERATOR_KEY,
        }),
      ]);
      expect(s.image).toBe('medrollup:1.2.3');
      // ...and without the override the devnet's chain is used (checked above); never both.
      expect(JSON.stringify(s.environment)).not.toContain('http://settlement:8545');
    }
  });

  it('starts app services after deploy succeeded and after the stores they use are healthy', () => {
    const deploy = service(model, 'deploy');
    expect(deploy.restart).toBe('no');
    expect(deploy.healthcheck?.test).toBeUndefined();
    const conn: Record<string, [string, string]> = {
      redis: ['REDIS_URL', 'redis://redis:6379'],
      postgres: ['DATABASE_URL', `postgres://medrollup:${REQUIRED.POSTGRES_PASSWORD}@postgres:5432/medrollup`],
      kubo: ['IPFS_API_URL', 'http://kubo:5001'],
    };
    for (const [name, app] of Object.entries(APP)) {
      const s = service(model, name);
      const deps = s.depends_on ?? {};
      expect([name, deps.deploy]).toEqual([name, { condition: 'service_completed_successfully', required: true }]);
      for (const store of app.uses) {
        expect([name, store, deps[store]]).toEqual([name, store, { condition: 'service_healthy', required: true }]);
        const [key, value] = conn[store]!;
        expect([name, s.environment?.[key]]).toEqual([name, value]);
      }
    }
    const api = service(model, 'api');
    expect(api.environment).toEqual(expect.objectContaining({ INDEXER_URL: 'http://indexer:42069', SEQUENCER_HOST: 'sequencer', SEQUENCER_PORT: '8550' }));
    expect(api.environment?.API_TOKEN_SECRET).toBe(REQUIRED.API_TOKEN_SECRET);
    expect(Object.keys(api.depends_on ?? {})).toEqual(expect.arrayContaining(['indexer', 'sequencer']));
    const relayer = service(model, 'relayer');
    expect(relayer.environment?.VALIDATOR_URLS).toBe('http://validator-0:8560,http://validator-1:8561,http://validator-2:8562,http://validator-3:8563');
    for (const i of [0, 1, 2, 3]) expect(relayer.depends_on?.[`validator-${i}`]?.condition).toBe('service_healthy');
  });

  it('scales provers and keeps exactly one settler', () => {
    const prover = service(model, 'prover');
    expect(prover.container_name).toBeUndefined();
    expect(prover.ports ?? []).toEqual([]);
    const settling = FROM_IMAGE.filter((name) => npmRun(service(model, name))?.script === 'settler');
    expect(settling).toEqual(['settler']);
    const settler = service(model, 'settler');
    expect(settler.scale ?? 1).toBe(1);
    expect(settler.deploy?.replicas ?? 1).toBe(1);
    // The sequencer neither proves nor settles in-process: those are the prover and settler services.
    expect(service(model, 'sequencer').environment).toEqual(expect.objectContaining({ PROVE_WORKERS: '0', SETTLE_WORKER: 'false' }));
  });

  it('publishes ports on 127.0.0.1 only: the API and the sequencer', () => {
    for (const m of [model, devnet]) {
      for (const [name, s] of Object.entries(m.services)) {
        for (const p of s.ports ?? []) expect([name, p.host_ip]).toEqual([name, '127.0.0.1']);
      }
    }
    const published = Object.entries(devnet.services)
      .filter(([, s]) => (s.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(['api', 'sequencer']);
    expect(service(model, 'api').ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 4000, published: '4000' })]);
    expect(service(model, 'kubo').ports ?? []).toEqual([]);
  });

  it('moves the published ports with API_PUBLISH_PORT and SEQUENCER_PUBLISH_PORT', async () => {
    const moved = await config([], { API_PUBLISH_PORT: '14000', SEQUENCER_PUBLISH_PORT: '18550' });
    expect(service(moved, 'api').ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 4000, published: '14000' })]);
    expect(service(moved, 'sequencer').ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 8550, published: '18550' })]);
  });

  it('refuses to render without the required secrets, naming the missing one', async () => {
    for (const missing of Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]) {
      const env: Record<string, string> = { ...REQUIRED };
      delete env[missing];
      const run = await compose(['config', '--quiet'], env);
      expect([missing, run.code]).not.toEqual([missing, 0]);
      expect(run.stderr).toMatch(new RegExp(`required variable ${missing} is missing a value: set ${missing} \\(`));
    }
    // An empty value is missing too (`:?`), not an empty password.
    const empty = await compose(['config', '--quiet'], { ...REQUIRED, POSTGRES_PASSWORD: '' });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/POSTGRES_PASSWORD/);
  });

  it('keeps Redis durable for BullMQ', () => {
    const cmd = (service(model, 'redis').command ?? []).join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect(service(model, 'redis').volumes).toEqual([expect.objectContaining({ type: 'volume', target: '/data' })]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds on node 24 slim, compiles the contracts, and runs as a non-root user', () => {
    const stages = dockerfile.match(/^FROM\s+\S+/gm) ?? [];
    expect(stages.length).toBeGreaterThan(0);
    for (const from of stages) expect(from).toMatch(/^FROM\s+node:24-bookworm-slim$/);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/^RUN npx tsx contracts\/build\.ts$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    const users = dockerfile.match(/^USER\s+(\S+)/gm) ?? [];
    expect(users.at(-1)).toMatch(/^USER\s+(?!root\b|0\b)\S+$/);
    expect(dockerfile).toMatch(/^CMD \["npm", ?"run", ?"sequencer"\]$/m);
    expect(dockerfile).toMatch(/LOG_FORMAT=json/);
  });

  it('keeps local state, caches and generated files out of the build context', () => {
    for (const entry of ['node_modules', '.data', '.cache', 'bench/results', '.git', 'coverage', 'indexer/.ponder', 'indexer/generated', 'contracts/artifacts', 'contracts/types', '*.log']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('Prometheus (monitoring profile, ops/prometheus)', () => {
  const dir = join(ROOT, 'ops', 'prometheus');
  interface ScrapeConfig {
    job_name: string;
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; type: string; port: number }[];
  }
  const prometheus = parseYaml(readFileSync(join(dir, 'prometheus.yml'), 'utf8')) as { scrape_configs: ScrapeConfig[]; rule_files: string[] };

  const promtool = (args: string[]): Promise<Run> => runTool('promtool.sh', args, { cwd: dir });

  it('passes promtool check config, with the alert rules it names', async () => {
    const run = await promtool(['check', 'config', 'prometheus.yml']);
    expect({ code: run.code, out: run.stdout + run.stderr }).toEqual({ code: 0, out: expect.stringMatching(/SUCCESS: \d+ rules found/) });
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
  }, DOWNLOAD_TIMEOUT_MS);

  it('fires each alert on the series that should page and stays quiet otherwise (promtool test rules)', async () => {
    const run = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect({ code: run.code, out: run.stdout + run.stderr }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  }, DOWNLOAD_TIMEOUT_MS);

  it('scrapes every service with a /metrics endpoint on the port it listens on, provers by DNS', () => {
    const targets = new Map<string, string>();
    for (const job of prometheus.scrape_configs) {
      for (const s of job.static_configs ?? []) for (const t of s.targets) targets.set(t, job.job_name);
      for (const d of job.dns_sd_configs ?? []) for (const n of d.names) targets.set(`${n}:${d.port}`, job.job_name);
    }
    for (const [name, app] of Object.entries(APP)) expect([name, targets.has(`${name}:${app.port}`)]).toEqual([name, true]);
    const prover = prometheus.scrape_configs.find((j) => j.job_name === 'prover');
    expect(prover?.static_configs).toBeUndefined();
    expect(prover?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['prover'], type: 'A', port: APP.prover!.port })]);
  });

  it('runs Prometheus only with --profile monitoring, on loopback, with the rules mounted read-only', async () => {
    const monitoring = await config(['--profile', 'monitoring']);
    const p = service(monitoring, 'prometheus');
    expect(p.ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 9090, published: '9090' })]);
    expect(p.volumes).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'bind', source: dir, target: '/etc/prometheus', read_only: true })]));
    expect(p.healthcheck?.test?.join(' ')).toContain('9090/-/ready');
    expect(await serviceList([])).not.toContain('prometheus');
  }, 120_000);
});
