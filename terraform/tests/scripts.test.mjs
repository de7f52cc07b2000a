// Tests of the scripts that run a deployed cluster: floe-instance (on every instance) and
// scripts/rolling-update and scripts/scale-down (where the operator runs terraform). AWS and
// terraform are replaced by the fakes in tests/fakes/, put on PATH: they keep SSM parameters, S3
// objects and secrets in a directory, emulate the instances' floe-instance answers, and log every
// call in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, statSync, readlinkSync, chmodSync, readdirSync, copyFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';

const TF = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = join(TF, '..');
const FLOE_INSTANCE = join(TF, 'modules/bootstrap/floe-instance.sh');

function fakeWorld({ nodes = 3, routers = 2 } = {}) {
  const fake = mkdtempSync(join(tmpdir(), 'floe-fake-'));
  for (const d of ['bin', 'params', 's3', 'secrets', 'etc', 'home', 'run']) mkdirSync(join(fake, d));
  for (const name of ['aws', 'fake-instance', 'terraform']) {
    copyFileSync(join(TF, 'tests', 'fakes', name), join(fake, 'bin', name));
    chmodSync(join(fake, 'bin', name), 0o755);
  }
  writeFileSync(join(fake, 'log'), '');
  const addresses = [...Array(nodes).keys()].map((i) => `10.0.0.${10 + i}:8081`);
  writeFileSync(join(fake, 'output-operations.json'), JSON.stringify({
    region: 'us-east-1', parameters: '/floe/test',
    node_instance_ids: [...Array(nodes).keys()].map((i) => `i-node${i}`), node_addresses: addresses,
    router_instance_ids: [...Array(routers).keys()].map((i) => `i-router${i}`), catalog_instance_ids: ['i-catalog0'],
    router_target_group: 'arn:tg/routers', catalog_target_group: 'arn:tg/catalog',
  }));
  writeFileSync(join(fake, 'output-node_volume_ids.json'), JSON.stringify([...Array(nodes).keys()].map((i) => `vol-${i}`)));
  param(fake, '/floe/test/router/nodes', addresses.join('\n'));
  param(fake, '/floe/test/router/drained', 'none');
  return fake;
}

const key = (name) => name.replace(/[/:!]/g, '_');
const param = (fake, name, value) => writeFileSync(join(fake, 'params', key(name)), value);
const readParam = (fake, name) => readFileSync(join(fake, 'params', key(name)), 'utf8');
const log = (fake) => readFileSync(join(fake, 'log'), 'utf8').trim().split('\n').filter(Boolean);

function runScript(fake, script, args) {
  return spawnSync('bash', [join(REPO, 'scripts', script), '--terraform-dir', '/nowhere', ...args], {
    encoding: 'utf8',
    env: { ...process.env, FAKE: fake, PATH: `${join(fake, 'bin')}:${process.env.PATH}`, CLUSTER_POLL_SECONDS: '0' },
  });
}

function floeInstance(fake, role, args, extraEnv = {}) {
  writeFileSync(join(fake, 'etc', 'instance.env'), `FLOE_ROLE=${role}\nFLOE_PARAMETERS=/floe/test\nAWS_REGION=us-east-1\n`);
  return spawnSync('bash', [FLOE_INSTANCE, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env, FAKE: fake, PATH: `${join(fake, 'bin')}:${process.env.PATH}`, FLOE_RETRY_DELAY: '0',
      FLOE_ETC: join(fake, 'etc'), FLOE_HOME: join(fake, 'home'), FLOE_RUN: join(fake, 'run'), FLOE_DATA: '/',
      ...extraEnv,
    },
  });
}

function release(fake, name, roles = ['node', 'router', 'catalog'], files = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'floe-release-'));
  for (const role of roles) {
    mkdirSync(join(dir, role, 'lib'), { recursive: true });
    writeFileSync(join(dir, role, 'lib', `floe-${role}.jar`), name);
  }
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  const r = spawnSync('tar', ['-czf', join(fake, 's3', name), '-C', dir, ...roles]);
  assert.equal(r.status, 0);
}

test('floe-instance prepare: release, settings and secrets from SSM; a download only when the release changes', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  param(fake, '/floe/test/node/config', 'http.port=8081\nbuffer.durability=sync');
  param(fake, '/floe/test/node/secrets', 'FLOE_HTTP_AUTH_TOKEN=arn:aws:secretsmanager:us-east-1:1:secret:ingest');
  writeFileSync(join(fake, 'secrets', key('arn:aws:secretsmanager:us-east-1:1:secret:ingest')), 's3cr3t token');
  writeFileSync(join(fake, 'etc', 'instance.properties'), 'node.partition-id=4\n');
  writeFileSync(join(fake, 'run', 'node-disks.properties'), 'catalog.s3.staging-dir=/mnt/floe-staging/s3-staging\n');

  const first = floeInstance(fake, 'node', ['prepare']);
  assert.equal(first.status, 0, first.stderr);
  const props = readFileSync(join(fake, 'etc', 'node.properties'), 'utf8');
  assert.match(props, /^http\.port=8081$/m);
  assert.match(props, /^node\.partition-id=4$/m);
  assert.match(props, /^catalog\.s3\.staging-dir=\/mnt\/floe-staging\/s3-staging$/m);
  const env = join(fake, 'etc', 'node.env');
  assert.equal(readFileSync(env, 'utf8'), "FLOE_HTTP_AUTH_TOKEN=s3cr3t\\ token\n");
  assert.equal(statSync(env).mode & 0o777, 0o640, 'the secrets are readable by root and the service group only');
  assert.equal(readFileSync(join(fake, 'home', 'current', 'node', 'lib', 'floe-node.jar'), 'utf8'), 'floe-1.tar.gz');
  assert.doesNotMatch(first.stderr, /s3cr3t/, 'a secret is never logged');

  const again = floeInstance(fake, 'node', ['prepare']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(log(fake).filter((l) => l.startsWith('s3 cp')).length, 1, 'an unchanged release is not downloaded again');

  release(fake, 'floe-2.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-2.tar.gz');
  const upgraded = floeInstance(fake, 'node', ['prepare']);
  assert.equal(upgraded.status, 0, upgraded.stderr);
  assert.equal(readFileSync(join(fake, 'home', 'current', 'node', 'lib', 'floe-node.jar'), 'utf8'), 'floe-2.tar.gz');
  assert.match(readlinkSync(join(fake, 'home', 'current')), /releases\/[0-9a-f]{16}$/);
  assert.equal(readdirSync(join(fake, 'home', 'releases')).filter((n) => !n.startsWith('.')).length, 2);
});

test('floe-instance run: a class-data archive recorded at a clean stop is checked, then mapped by later starts; one that does not map is dropped', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  param(fake, '/floe/test/node/config', 'http.port=8081');
  param(fake, '/floe/test/node/secrets', 'none');
  writeFileSync(join(fake, 'etc', 'instance.properties'), 'node.partition-id=0\n');
  // a JVM that says whether an archive maps (-version with -Xshare:on), and records how it was run
  const java = join(fake, 'bin', 'fake-java');
  writeFileSync(java, '#!/usr/bin/env bash\nfor a in "$@"; do [[ "$a" == -version ]] && ' +
    '{ printf "%s\\n" "$@" >"$FAKE/java-check-args"; exit "${FAKE_JAVA_MAPS:-0}"; }; done\n' +
    'printf "%s\\n" "$@" >"$FAKE/java-args"\n');
  chmodSync(java, 0o755);
  const run = (env = {}) => {
    const r = floeInstance(fake, 'node', ['run'], { FLOE_JAVA: java, ...env });
    assert.equal(r.status, 0, r.stderr);
    return { args: readFileSync(join(fake, 'java-args'), 'utf8').split('\n'), stderr: r.stderr };
  };
  const prepared = floeInstance(fake, 'node', ['prepare']);
  assert.equal(prepared.status, 0, prepared.stderr);
  const cds = join(fake, 'home', 'cds');

  const first = run();
  const recordAt = first.args.find((a) => a.startsWith('-XX:ArchiveClassesAtExit='));
  assert.ok(recordAt, `the first start records an archive: ${first.args}`);
  const recorded = recordAt.split('=')[1];
  assert.equal(dirname(recorded), cds);
  assert.match(recorded, /\.jsa\.new$/);
  assert.ok(first.args.includes(`${join(fake, 'home', 'current', 'node', 'lib')}/*`), 'the class path follows');

  // the service stopped cleanly: its JVM wrote the archive, which maps
  writeFileSync(recorded, 'archive');
  const second = run();
  const archive = recorded.replace(/\.new$/, '');
  assert.ok(second.args.includes(`-XX:SharedArchiveFile=${archive}`), `${second.args}`);
  assert.ok(existsSync(archive) && !existsSync(recorded), 'checked, then kept under its name');
  const check = readFileSync(join(fake, 'java-check-args'), 'utf8').split('\n');
  assert.ok(check.includes('-Xshare:on') && check.includes(`-XX:SharedArchiveFile=${recorded}`), `${check}`);
  assert.ok(check.includes('-XX:MaxRAMPercentage=50'), 'checked with the heap the service runs with (compressed pointers)');
  // an archive of this release made by a JVM since updated goes
  const stale = join(cds, basename(archive).replace(/-[0-9]+\.jsa$/, '-1.jsa'));
  writeFileSync(stale, 'archive of an older JVM');
  assert.ok(run().args.includes(`-XX:SharedArchiveFile=${archive}`), 'and mapped by every later start');
  assert.ok(!existsSync(stale), 'the older JVM\'s archive is removed');

  // one cut short (killed while it was written) does not map: dropped, and recorded again
  spawnSync('rm', ['-f', archive]);
  writeFileSync(recorded, 'half an archive');
  const cut = run({ FAKE_JAVA_MAPS: '1' });
  assert.ok(!existsSync(recorded) && !existsSync(archive), 'never mapped');
  assert.ok(cut.args.includes(`-XX:ArchiveClassesAtExit=${recorded}`));
  assert.match(cut.stderr, /does not map/);

  // a new release: the archives of the one before go
  writeFileSync(archive, 'archive of release 1');
  release(fake, 'floe-2.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-2.tar.gz');
  const upgraded = floeInstance(fake, 'node', ['prepare']);
  assert.equal(upgraded.status, 0, upgraded.stderr);
  assert.deepEqual(readdirSync(cds), []);
  assert.notEqual(run().args.find((a) => a.startsWith('-XX:ArchiveClassesAtExit=')), recordAt, 'one per release');
  assert.ok(!run({ FLOE_CLASS_DATA: 'off' }).args.some((a) => a.includes('Archive')), 'and none when turned off');
});

test('floe-instance: token lines become a token file of hashes the service re-reads; a rotation keeps the previous value', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  const arn = (n) => `arn:aws:secretsmanager:us-east-1:1:secret:${n}`;
  const secret = (n, v, stage = '') => writeFileSync(join(fake, 'secrets', key(arn(n)) + stage), v);
  const sha = (v) => createHash('sha256').update(v, 'utf8').digest('hex');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  // as Terraform writes them: the console reads Floe's catalog with a catalog:read token of the routers' own
  param(fake, '/floe/test/router/config', 'router.port=8080\nrouter.catalog-uri=http://catalog.internal:8181');
  param(fake, '/floe/test/router/secrets', [`FLOE_ROUTER_CATALOG_TOKEN=${arn('router-catalog')}`, `FLOE_ROUTER_NODE_TOKEN=${arn('router')}`,
    `token operator read,admin ${arn('operator')}`,
    `token clicks ingest:clicks,ingest:clicks-* ${arn('clicks')} events-per-second=5000 bytes-per-second=50MiB`].join('\n'));
  secret('router', 'router-secret');
  secret('router-catalog', 'router-catalog-secret');
  secret('operator', 'operator-secret');
  secret('clicks', 'clicks-v1');

  const r = floeInstance(fake, 'router', ['prepare']);
  assert.equal(r.status, 0, r.stderr);
  const file = join(fake, 'etc', 'router.tokens');
  const lines = () => readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(lines(), [`operator read,admin sha256:${sha('operator-secret')}`,
    `clicks ingest:clicks,ingest:clicks-* sha256:${sha('clicks-v1')} events-per-second=5000 bytes-per-second=50MiB`]);
  assert.equal(statSync(file).mode & 0o777, 0o640);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /-secret|clicks-v1/, 'hashes only');
  assert.equal(readFileSync(join(fake, 'etc', 'router.env'), 'utf8'),
    'FLOE_ROUTER_CATALOG_TOKEN=router-catalog-secret\nFLOE_ROUTER_NODE_TOKEN=router-secret\n',
    'router.catalog-token and router.node-token reach the router as environment variables, never in its properties');
  assert.match(readFileSync(join(fake, 'etc', 'router.properties'), 'utf8'), new RegExp(`^auth\\.tokens-file=${file}$`, 'm'));
  assert.match(readFileSync(join(fake, 'etc', 'router.properties'), 'utf8'), /^router\.catalog-uri=http:\/\/catalog\.internal:8181$/m);
  assert.doesNotMatch(readFileSync(join(fake, 'etc', 'router.properties'), 'utf8'), /-secret/);
  assert.equal(readFileSync(join(fake, 'etc', 'operator.token'), 'utf8'), 'operator-secret');
  assert.equal(statSync(join(fake, 'etc', 'operator.token')).mode & 0o777, 0o600, 'the operator token is root only');
  assert.doesNotMatch(r.stderr, /-secret|clicks-v1/, 'a secret is never logged');

  const before = statSync(file).mtimeMs;
  const unchanged = floeInstance(fake, 'router', ['tokens']);
  assert.equal(unchanged.status, 0, unchanged.stderr);
  assert.equal(statSync(file).mtimeMs, before, 'an unchanged token file is not rewritten (the service would reload)');

  secret('clicks', 'clicks-v1', '.previous');
  secret('clicks', 'clicks-v2');
  const rotated = floeInstance(fake, 'router', ['tokens']);
  assert.equal(rotated.status, 0, rotated.stderr);
  assert.deepEqual(lines().slice(1), [
    `clicks ingest:clicks,ingest:clicks-* sha256:${sha('clicks-v2')} events-per-second=5000 bytes-per-second=50MiB`,
    `clicks.previous ingest:clicks,ingest:clicks-* sha256:${sha('clicks-v1')} events-per-second=5000 bytes-per-second=50MiB`]);

  param(fake, '/floe/test/router/secrets', `token bad;name ingest ${arn('clicks')}`);
  const bad = floeInstance(fake, 'router', ['tokens']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /must be: token NAME SCOPES SECRET-ARN/);
  assert.equal(lines().length, 3, 'a broken parameter keeps the token file as it was');
});

test('TLS between routers and nodes: a node makes and publishes a certificate for its address, routers trust the published ones', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  const etc = join(fake, 'etc');
  param(fake, '/floe/test/node/config', `http.port=8081\nhttp.tls.cert-file=${etc}/tls/node.crt\nhttp.tls.key-file=${etc}/tls/node.key`);
  param(fake, '/floe/test/node/secrets', 'none');
  param(fake, '/floe/test/router/config', `router.port=8080\nrouter.node-tls-trust-file=${etc}/nodes-trust.pem`);
  param(fake, '/floe/test/router/secrets', 'none');
  param(fake, '/floe/test/node-certs/0', 'pending');
  param(fake, '/floe/test/node-certs/1', 'pending');
  const san = (file) => spawnSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout;

  const noCert = floeInstance(fake, 'router', ['prepare']);
  assert.equal(noCert.status, 1, 'a router does not start before any node published its certificate');
  assert.match(noCert.stderr, /no node has published its TLS certificate yet/);

  writeFileSync(join(etc, 'instance.properties'), 'node.partition-id=1\n');
  const node = floeInstance(fake, 'node', ['prepare'], { FLOE_INSTANCE_IP: '10.0.0.11' });
  assert.equal(node.status, 0, node.stderr);
  const cert = readFileSync(join(etc, 'tls', 'node.crt'), 'utf8');
  assert.match(san(join(etc, 'tls', 'node.crt')), /IP Address:10\.0\.0\.11, IP Address:127\.0\.0\.1/);
  assert.equal(statSync(join(etc, 'tls', 'node.key')).mode & 0o777, 0o640, 'the key: root and the service group only');
  assert.equal(readParam(fake, '/floe/test/node-certs/1'), cert.trimEnd(), 'published for the routers');
  assert.match(readFileSync(join(etc, 'node.properties'), 'utf8'), /^http\.tls\.cert-file=/m);

  const again = floeInstance(fake, 'node', ['prepare'], { FLOE_INSTANCE_IP: '10.0.0.11' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(join(etc, 'tls', 'node.crt'), 'utf8'), cert, 'a valid certificate for this address is kept');
  const moved = floeInstance(fake, 'node', ['prepare'], { FLOE_INSTANCE_IP: '10.0.0.12' });
  assert.equal(moved.status, 0, moved.stderr);
  assert.match(san(join(etc, 'tls', 'node.crt')), /IP Address:10\.0\.0\.12,/, 'another address, a new certificate');
  const cert1 = readFileSync(join(etc, 'tls', 'node.crt'), 'utf8');

  const router = floeInstance(fake, 'router', ['prepare']);
  assert.equal(router.status, 0, router.stderr);
  const trust = join(etc, 'nodes-trust.pem');
  assert.equal(readFileSync(trust, 'utf8'), cert1, 'exactly the published certificates, placeholders left out');

  param(fake, '/floe/test/node-certs/0', cert);
  const membership = floeInstance(fake, 'router', ['membership']);
  assert.equal(membership.status, 0, membership.stderr);
  assert.equal((readFileSync(trust, 'utf8').match(/BEGIN CERTIFICATE/g) || []).length, 2, 'a node that publishes later is trusted by the next membership run');
});

test('TLS hand-overs between nodes: a coordinated node trusts exactly the published node certificates, refreshed by peers', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  const etc = join(fake, 'etc');
  const trust = join(etc, 'peers-trust.pem');
  param(fake, '/floe/test/node/config', `http.port=8081\nhttp.tls.cert-file=${etc}/tls/node.crt\nhttp.tls.key-file=${etc}/tls/node.key\ncommit.mode=coordinated\ncommit.cluster-tls-trust-file=${trust}`);
  param(fake, '/floe/test/node/secrets', 'none');
  param(fake, '/floe/test/node-certs/0', 'pending');
  param(fake, '/floe/test/node-certs/1', 'pending');
  writeFileSync(join(etc, 'instance.properties'), 'node.partition-id=1\n');

  const node = floeInstance(fake, 'node', ['prepare'], { FLOE_INSTANCE_IP: '10.0.0.11' });
  assert.equal(node.status, 0, node.stderr);
  const own = readFileSync(join(etc, 'tls', 'node.crt'), 'utf8');
  assert.equal(readFileSync(trust, 'utf8'), own, 'at start: its own certificate, the only one published, placeholders left out');

  const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=floe-node-0', '-keyout', join(fake, 'other.key'), '-out', join(fake, 'other.crt')], { encoding: 'utf8' });
  assert.equal(other.status, 0, other.stderr);
  param(fake, '/floe/test/node-certs/0', readFileSync(join(fake, 'other.crt'), 'utf8').trimEnd());
  const before = statSync(trust).mtimeMs;
  const peers = floeInstance(fake, 'node', ['peers']);
  assert.equal(peers.status, 0, peers.stderr);
  assert.equal((readFileSync(trust, 'utf8').match(/BEGIN CERTIFICATE/g) || []).length, 2, 'a node that published later is trusted after the next peers run');
  const unchanged = statSync(trust).mtimeMs;
  assert.notEqual(unchanged, before);
  assert.equal(floeInstance(fake, 'node', ['peers']).status, 0);
  assert.equal(statSync(trust).mtimeMs, unchanged, 'unchanged certificates are not rewritten (the node re-reads on change)');

  param(fake, '/floe/test/node/config', `http.port=8081\ncommit.mode=direct`);
  assert.equal(floeInstance(fake, 'node', ['prepare'], { FLOE_INSTANCE_IP: '10.0.0.11' }).status, 0);
  const noop = floeInstance(fake, 'node', ['peers']);
  assert.equal(noop.status, 0, 'peers is a no-op on a node without TLS hand-overs');
  assert.equal(floeInstance(fake, 'router', ['peers']).status, 1, 'peers is for nodes');
});

test('floe-instance prepare retries AWS calls that fail for a while, and fails clearly when they keep failing', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  param(fake, '/floe/test/router/config', 'router.port=8080');
  param(fake, '/floe/test/router/secrets', 'none');
  writeFileSync(join(fake, 'fail-first'), '3');
  const flaky = floeInstance(fake, 'router', ['prepare']);
  assert.equal(flaky.status, 0, flaky.stderr);
  assert.match(flaky.stderr, /attempt 1 of 5 failed/);
  assert.equal(readFileSync(join(fake, 'etc', 'router.env'), 'utf8'), '', 'no secrets for a router');

  writeFileSync(join(fake, 'fail-first'), '100');
  const down = floeInstance(fake, 'router', ['prepare']);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot read the SSM parameter \/floe\/test\/artifact/);
});

test('floe-instance prepare refuses to start a node whose data volume is not mounted', () => {
  const fake = fakeWorld();
  const notMounted = mkdtempSync(join(tmpdir(), 'floe-data-'));
  const r = floeInstance(fake, 'node', ['prepare'], { FLOE_DATA: notMounted });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /refusing to start: .* is not a mounted volume/);
  assert.ok(!existsSync(join(fake, 'etc', 'node.properties')), 'nothing is prepared');
  assert.deepEqual(log(fake), [], 'not even the release is fetched');
});

test('floe-instance prepare: a node gets the catalog token of its own partition only', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  param(fake, '/floe/test/node/config', 'http.port=8081');
  const arn = (n) => `arn:aws:secretsmanager:us-east-1:1:secret:${n}`;
  param(fake, '/floe/test/node/secrets', [0, 1, 2].map((i) => `partition ${i} FLOE_CATALOG_TOKEN=${arn(`commit-${i}`)}`).join('\n'));
  // only partition 1's secret exists: reading another one would fail the prepare
  writeFileSync(join(fake, 'secrets', key(arn('commit-1'))), 'token-of-1');
  writeFileSync(join(fake, 'etc', 'instance.properties'), 'node.partition-id=1\n');
  const r = floeInstance(fake, 'node', ['prepare']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(fake, 'etc', 'node.env'), 'utf8'), 'FLOE_CATALOG_TOKEN=token-of-1\n');
});

test('floe-instance prepare rejects a secrets entry that is not a FLOE_* variable', () => {
  const fake = fakeWorld();
  release(fake, 'floe-1.tar.gz');
  param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
  param(fake, '/floe/test/router/config', 'router.port=8080');
  param(fake, '/floe/test/router/secrets', 'LD_PRELOAD=arn:aws:secretsmanager:us-east-1:1:secret:x');
  const r = floeInstance(fake, 'router', ['prepare']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /'LD_PRELOAD' is not a FLOE_\* variable name/);
});

test('floe-instance membership: the nodes minus the drained ones, rewritten only on a change, never emptied', () => {
  const fake = fakeWorld();
  const nodesFile = join(fake, 'etc', 'nodes');
  assert.equal(floeInstance(fake, 'router', ['membership']).status, 0);
  assert.equal(readFileSync(nodesFile, 'utf8'), '10.0.0.10:8081\n10.0.0.11:8081\n10.0.0.12:8081\n');
  param(fake, '/floe/test/router/drained', '10.0.0.11:8081');
  assert.equal(floeInstance(fake, 'router', ['membership']).status, 0);
  assert.equal(readFileSync(nodesFile, 'utf8'), '10.0.0.10:8081\n10.0.0.12:8081\n');
  const before = statSync(nodesFile).mtimeMs;
  spawnSync('sleep', ['0.05']);
  assert.equal(floeInstance(fake, 'router', ['membership']).status, 0);
  assert.equal(statSync(nodesFile).mtimeMs, before, 'an unchanged membership is not rewritten (the router re-reads on change)');
  param(fake, '/floe/test/router/drained', '10.0.0.10:8081\n10.0.0.11:8081\n10.0.0.12:8081');
  const empty = floeInstance(fake, 'router', ['membership']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /every node is drained/);
  assert.equal(readFileSync(nodesFile, 'utf8'), '10.0.0.10:8081\n10.0.0.12:8081\n', 'the last membership stays');
});

test('rolling update: one node at a time, drained, flushed, restarted, ready and back before the next', () => {
  const fake = fakeWorld({ nodes: 3 });
  const r = runScript(fake, 'rolling-update', ['--roles', 'nodes']);
  assert.equal(r.status, 0, r.stderr);
  const steps = log(fake).filter((l) => /^put |^i-node\d (flush|systemctl|wait-ready)/.test(l));
  const expected = [0, 1, 2].flatMap((i) => [
    `put /floe/test/router/drained=10.0.0.${10 + i}:8081`,
    `i-node${i} flush`,
    `i-node${i} systemctl restart floe-node`,
    `i-node${i} wait-ready 600`,
    'put /floe/test/router/drained=none',
  ]);
  assert.deepEqual(steps, expected);
  const log0 = log(fake);
  const flush0 = log0.indexOf('i-node0 flush');
  assert.ok(log0.slice(0, flush0).some((l) => /^i-router1 status/.test(l)), 'every router is asked before the flush');
  assert.equal(readParam(fake, '/floe/test/router/drained'), 'none');
});

test('rolling update of routers: each leaves its load balancer, restarts, is ready and back in service before the next', () => {
  const fake = fakeWorld({ nodes: 1, routers: 2 });
  const r = runScript(fake, 'rolling-update', ['--roles', 'routers,catalog']);
  assert.equal(r.status, 0, r.stderr);
  const steps = log(fake).filter((l) => /^elbv2|^i-(router|catalog)\d (systemctl|wait-ready)/.test(l));
  assert.deepEqual(steps, [
    ...[0, 1].flatMap((i) => [
      `elbv2 deregister-targets arn:tg/routers Id=i-router${i},Port=8080`,
      `elbv2 wait arn:tg/routers Id=i-router${i},Port=8080`,
      `i-router${i} systemctl restart floe-router`,
      `i-router${i} wait-ready 600`,
      `elbv2 register-targets arn:tg/routers Id=i-router${i},Port=8080`,
      `elbv2 wait arn:tg/routers Id=i-router${i},Port=8080`,
    ]),
    'elbv2 deregister-targets arn:tg/catalog Id=i-catalog0,Port=8181',
    'elbv2 wait arn:tg/catalog Id=i-catalog0,Port=8181',
    'i-catalog0 systemctl restart floe-catalog',
    'i-catalog0 wait-ready 600',
    'elbv2 register-targets arn:tg/catalog Id=i-catalog0,Port=8181',
    'elbv2 wait arn:tg/catalog Id=i-catalog0,Port=8181',
  ]);
});

test('rolling update stops at the first node that does not come back, leaving it drained and the rest untouched', () => {
  const fake = fakeWorld({ nodes: 3 });
  writeFileSync(join(fake, 'never-ready-i-node1'), '');
  const r = runScript(fake, 'rolling-update', ['--roles', 'nodes', '--ready-timeout', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /node 1: not ready after 1s .* it stays drained/);
  assert.equal(readParam(fake, '/floe/test/router/drained'), '10.0.0.11:8081');
  assert.ok(!log(fake).some((l) => l.startsWith('i-node2')), 'node 2 was not touched');
});

test('rolling update --replace replaces each node through terraform, instance and attachment only', () => {
  const fake = fakeWorld({ nodes: 2 });
  const r = runScript(fake, 'rolling-update', ['--roles', 'nodes', '--replace']);
  assert.equal(r.status, 0, r.stderr);
  const applies = log(fake).filter((l) => l.startsWith('terraform apply'));
  assert.equal(applies.length, 2);
  assert.match(applies[0], /-replace=module\.nodes\.aws_instance\.node\[0\] -target=module\.nodes\.aws_instance\.node\[0\]/);
  assert.match(applies[0], /-target=module\.nodes\.aws_volume_attachment\.data\[0\]/);
  assert.ok(!log(fake).some((l) => /systemctl restart/.test(l)));
});

test('scale-down empties each partition it removes before terraform touches anything', () => {
  const fake = fakeWorld({ nodes: 4 });
  const r = runScript(fake, 'scale-down', ['--to', '2', '--delete-volumes']);
  assert.equal(r.status, 0, r.stderr);
  const steps = log(fake).filter((l) => /^i-node\d (flush|status|systemctl)|^terraform|^ec2/.test(l));
  assert.deepEqual(steps, [
    'i-node2 flush', 'i-node2 status', 'i-node2 systemctl disable --now floe-node',
    'i-node3 flush', 'i-node3 status', 'i-node3 systemctl disable --now floe-node',
    'terraform state rm module.nodes.aws_ebs_volume.data[2]',
    'terraform state rm module.nodes.aws_ebs_volume.data[3]',
    'terraform apply -auto-approve -input=false -var node_count=2',
    'ec2 create-snapshot vol-2', 'ec2 wait ', 'ec2 delete-volume vol-2',
    'ec2 create-snapshot vol-3', 'ec2 wait ', 'ec2 delete-volume vol-3',
  ]);
});

test('scale-down refuses to remove a partition that still buffers events', () => {
  const fake = fakeWorld({ nodes: 3 });
  writeFileSync(join(fake, 'buffered-i-node2'), '17');
  const r = runScript(fake, 'scale-down', ['--to', '2']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /partition 2 still buffers 17 events after a flush; nothing was removed/);
  assert.ok(!log(fake).some((l) => l.startsWith('terraform') || /systemctl/.test(l)), 'no stop, no state change, no apply');
});

// A throwaway PostgreSQL server (the Debian packages' binaries), TLS on like RDS, with an
// rds_iam role and a master user that owns the database, as RDS sets them up.
function postgres(t) {
  const bin = ['/usr/lib/postgresql'].flatMap((d) => (existsSync(d) ? readdirSync(d).sort().reverse() : [])
    .map((v) => join(d, v, 'bin'))).find((b) => existsSync(join(b, 'initdb')));
  if (!bin) {
    t.skip('PostgreSQL is not installed (scripts/test installs it): the catalog database setup was not run');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'floe-pg-'));
  chmodSync(dir, 0o777);
  const asPostgres = (cmd, args, opts = {}) => {
    const r = process.getuid() === 0
      ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', ...opts })
      : spawnSync(cmd, args, { encoding: 'utf8', ...opts });
    assert.equal(r.status, 0, `${cmd}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const data = join(dir, 'data');
  asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256']);
  // a server certificate for 127.0.0.1, as RDS has one for its endpoint name
  asPostgres('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(data, 'server.key'), '-out', join(data, 'server.crt')]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', join(dir, 'log'), '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on`, 'start']);
  const sql = (statement, db = 'postgres') => asPostgres('psql', ['-X', '-q', '-t', '-A', '-h', dir, '-p', String(port),
    '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-c', statement]).trim();
  sql('CREATE ROLE rds_iam');
  sql("CREATE ROLE floe_admin LOGIN CREATEROLE PASSWORD 'master-pw'");
  sql('GRANT rds_iam TO floe_admin WITH ADMIN OPTION');
  sql('CREATE DATABASE floe OWNER floe_admin');
  const ca = readFileSync(join(data, 'server.crt'), 'utf8');
  return { port, sql, ca, stop: () => asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', 'stop']) };
}

test('floe-instance prepare on a catalog instance creates its IAM-authenticated database user, once, verifying the server', (t) => {
  const pg = postgres(t);
  if (!pg) return;
  try {
    const fake = fakeWorld();
    // the release carries the database's certificate authorities (scripts/package: RDS's)
    release(fake, 'floe-1.tar.gz', ['node', 'router', 'catalog'], { 'catalog/rds-ca.pem': pg.ca });
    param(fake, '/floe/test/artifact', 's3://artifacts/floe-1.tar.gz');
    param(fake, '/floe/test/catalog/config', 'service.port=8181');
    param(fake, '/floe/test/catalog/secrets', 'none');
    param(fake, '/floe/test/catalog/db-setup',
      `host=127.0.0.1\nport=${pg.port}\ndatabase=floe\nuser=floe_catalog\nmaster_secret=arn:aws:secretsmanager:us-east-1:1:secret:rds!db`);
    writeFileSync(join(fake, 'secrets', key('arn:aws:secretsmanager:us-east-1:1:secret:rds!db')),
      JSON.stringify({ username: 'floe_admin', password: 'master-pw' }));
    for (const attempt of [1, 2]) {
      const r = floeInstance(fake, 'catalog', ['prepare']);
      assert.equal(r.status, 0, `prepare #${attempt}: ${r.stderr}`);
      assert.match(r.stderr, /database user floe_catalog ready/);
      assert.doesNotMatch(r.stderr, /master-pw/, 'the master password is never logged');
    }
    assert.equal(pg.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'floe_catalog'"), 't');
    assert.equal(pg.sql("SELECT pg_has_role('floe_catalog', 'rds_iam', 'MEMBER')"), 't');
    assert.equal(pg.sql("SELECT has_schema_privilege('floe_catalog', 'public', 'CREATE')", 'floe'), 't');
    assert.equal(pg.sql("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'floe_catalog'"), 't',
      'the service user has no password: it logs in with IAM tokens only');
    assert.doesNotMatch(readFileSync(join(fake, 'etc', 'catalog.env'), 'utf8'), /master-pw/);

    writeFileSync(join(fake, 'secrets', key('arn:aws:secretsmanager:us-east-1:1:secret:rds!db')),
      JSON.stringify({ username: 'floe_admin', password: 'rotated-away' }));
    const stale = floeInstance(fake, 'catalog', ['prepare']);
    assert.equal(stale.status, 1, 'a wrong master password stops the start');
    assert.match(stale.stderr, /cannot set up the database user floe_catalog/);

    // a server whose certificate the release does not trust is never sent the master password
    writeFileSync(join(fake, 'secrets', key('arn:aws:secretsmanager:us-east-1:1:secret:rds!db')),
      JSON.stringify({ username: 'floe_admin', password: 'master-pw' }));
    const otherDir = mkdtempSync(join(tmpdir(), 'floe-other-ca-'));
    const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(otherDir, 'key'), '-out', join(otherDir, 'crt')]);
    assert.equal(other.status, 0);
    release(fake, 'floe-2.tar.gz', ['node', 'router', 'catalog'], { 'catalog/rds-ca.pem': readFileSync(join(otherDir, 'crt'), 'utf8') });
    param(fake, '/floe/test/artifact', 's3://artifacts/floe-2.tar.gz');
    const untrusted = floeInstance(fake, 'catalog', ['prepare']);
    assert.equal(untrusted.status, 1, 'an unverified database server stops the start');
    assert.match(untrusted.stderr, /certificate verify failed/);

    release(fake, 'floe-3.tar.gz', ['node', 'router', 'catalog']);
    param(fake, '/floe/test/artifact', 's3://artifacts/floe-3.tar.gz');
    const noBundle = floeInstance(fake, 'catalog', ['prepare']);
    assert.equal(noBundle.status, 1);
    assert.match(noBundle.stderr, /has no catalog\/rds-ca\.pem/);
  } finally {
    pg.stop();
  }
});

test('scripts/package carries the RDS certificate authorities, from a pinned and checked package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-rds-ca-'));
  const out = join(dir, 'rds-ca.pem');
  const r = spawnSync('bash', [join(REPO, 'scripts', 'package'), '--rds-ca', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const subjects = spawnSync('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile '${out}' | openssl pkcs7 -print_certs -noout`],
    { encoding: 'utf8' }).stdout;
  assert.ok((subjects.match(/^subject=/gm) || []).length >= 100, 'every region\'s authorities');
  assert.match(subjects, /CN = Amazon RDS us-east-1 Root CA RSA2048 G1/, 'the authority Terraform pins (rds-ca-rsa2048-g1)');

  const tampered = join(dir, 'tampered.pem');
  const bad = spawnSync('bash', [join(REPO, 'scripts', 'package'), '--rds-ca', tampered],
    { encoding: 'utf8', env: { ...process.env, FLOE_RDS_CA_SHA512: 'not-the-hash' } });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /is not the pinned not-the-hash/);
  assert.ok(!existsSync(tampered), 'nothing written from a package that does not match');
});
