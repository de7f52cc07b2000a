// Offline validation of Floe's Terraform (no terraform binary needed): every file parses as HCL,
// and policy tests pin down the structure operators rely on. Run with `node --test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@cdktf/hcl2json';
import { readFileSync, readdirSync, statSync, mkdtempSync, symlinkSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';

const TF = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = join(TF, '..');

function tfFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'tests' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? tfFiles(path) : name.endsWith('.tf') ? [path] : [];
  });
}

function merge(into, from) {
  for (const [kind, blocks] of Object.entries(from)) {
    into[kind] ??= {};
    for (const [name, body] of Object.entries(blocks)) {
      if (Array.isArray(body)) into[kind][name] = body;
      else into[kind][name] = { ...(into[kind][name] ?? {}), ...body };
    }
  }
  return into;
}

const parsed = {};
async function module(dir) {
  if (!parsed[dir]) {
    const m = {};
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
      merge(m, await parse(f, readFileSync(join(dir, f), 'utf8')));
    }
    parsed[dir] = m;
  }
  return parsed[dir];
}
const root = () => module(TF);
const mod = (name) => module(join(TF, 'modules', name));
const one = (block) => (Array.isArray(block) ? block[0] : block);
const resource = (m, type, name) => one(m.resource?.[type]?.[name]);
const readText = (...p) => readFileSync(join(...p), 'utf8');

test('every .tf file parses as HCL', async () => {
  const files = tfFiles(TF);
  assert.ok(files.length >= 10, `found only ${files.length} .tf files`);
  for (const f of files) {
    await assert.doesNotReject(parse(f, readFileSync(f, 'utf8')), `${relative(TF, f)} does not parse`);
  }
});

test('every module the root uses exists, and every variable is described and typed', async () => {
  const r = await root();
  for (const [name, block] of Object.entries(r.module)) {
    const source = one(block).source;
    assert.ok(statSync(join(TF, source)).isDirectory(), `module ${name}: ${source} missing`);
  }
  const dirs = [TF, ...readdirSync(join(TF, 'modules')).map((m) => join(TF, 'modules', m))];
  for (const dir of dirs) {
    const m = await module(dir);
    for (const [name, block] of Object.entries(m.variable ?? {})) {
      const v = one(block);
      assert.ok(v.description && v.description.length > 5, `${relative(REPO, dir)}: variable ${name} has no description`);
      assert.ok(v.type, `${relative(REPO, dir)}: variable ${name} has no type`);
    }
    for (const [name, block] of Object.entries(m.output ?? {})) {
      assert.ok(one(block).description, `${relative(REPO, dir)}: output ${name} has no description`);
    }
  }
});

test('node instance types are limited to the c5 family, c5.2xlarge by default', async () => {
  const v = one((await root()).variable.node_instance_type);
  assert.equal(v.default, 'c5.2xlarge');
  const condition = one(v.validation).condition;
  const pattern = condition.match(/regex\("((?:[^"\\]|\\.)*)"/)[1].replace(/\\\\/g, '\\');
  const re = new RegExp(pattern);
  for (const ok of ['c5.large', 'c5.2xlarge', 'c5.24xlarge', 'c5d.4xlarge', 'c5d.metal']) assert.match(ok, re);
  for (const bad of ['m5.large', 'c6i.2xlarge', 'c5n.2xlarge', 't3.micro', 'c5.2xlarge ']) assert.doesNotMatch(bad, re);
});

test('the load balancer is a network load balancer whose health check is the router\'s readiness path', async () => {
  const m = await mod('load_balancer');
  assert.equal(resource(m, 'aws_lb', 'this').load_balancer_type, 'network');
  const hc = one(resource(m, 'aws_lb_target_group', 'routers').health_check);
  assert.equal(hc.path, '/health/ready');
  assert.equal(hc.protocol, 'HTTP');
  const routerSource = readText(REPO, 'router/src/main/java/io/floe/router/Router.java');
  assert.match(routerSource, /case "\/health\/ready"/, 'the router serves the path the load balancer checks');
  const tls = resource(m, 'aws_lb_listener', 'tls');
  assert.equal(tls.protocol, 'TLS');
  assert.match(tls.count, /var.tls_certificate_arn == null \? 0 : 1/);
  assert.equal(tls.certificate_arn, '${var.tls_certificate_arn}');
});

test('the bucket is encrypted, never public, TLS only, and cleans up interrupted uploads', async () => {
  const m = await mod('storage');
  const block = resource(m, 'aws_s3_bucket_public_access_block', 'this');
  for (const k of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) {
    assert.equal(block[k], true, k);
  }
  const sse = one(one(resource(m, 'aws_s3_bucket_server_side_encryption_configuration', 'this').rule)
    .apply_server_side_encryption_by_default);
  assert.equal(sse.sse_algorithm, 'aws:kms');
  assert.match(resource(m, 'aws_s3_bucket_policy', 'tls_only').policy, /aws:SecureTransport/);
  assert.ok(one(resource(m, 'aws_s3_bucket_lifecycle_configuration', 'this').rule).abort_incomplete_multipart_upload);
});

test('outputs give the ingestion URL, the catalog URI and ready-to-paste Spark and Trino settings', async () => {
  const out = (await root()).output;
  for (const name of ['ingestion_url', 'catalog_uri', 'spark_settings', 'trino_settings']) {
    assert.ok(out[name], `output ${name}`);
  }
  assert.match(one(out.spark_settings).value, /spark.sql.catalog.floe.type=rest/);
  assert.match(one(out.trino_settings).value, /connector.name=iceberg/);
});

test('shellcheck passes on every shell script', () => {
  const scripts = [
    '.ci/run', 'scripts/lib/common.sh', 'scripts/quickstart', 'scripts/query', 'scripts/bench-node',
    'scripts/bench-flush', 'scripts/bench-maintenance', 'scripts/package', 'scripts/bench', 'scripts/rolling-update', 'scripts/scale-down',
    'terraform/modules/bootstrap/setup-disks.sh', 'terraform/modules/bootstrap/floe-instance.sh',
    'terraform/tests/terraform-test.sh',
  ].map((p) => join(REPO, p));
  const r = spawnSync('shellcheck', ['-x', '-P', join(REPO, 'scripts'), ...scripts], { encoding: 'utf8' });
  assert.ok(!r.error, `shellcheck is not installed (apt-get install shellcheck; .ci/run does): ${r.error}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a data volume cannot be destroyed by an apply, and routine changes replace no instance', async () => {
  const nodes = await mod('nodes');
  const volume = resource(nodes, 'aws_ebs_volume', 'data');
  assert.equal(one(volume.lifecycle).prevent_destroy, true, 'prevent_destroy on the data volumes');
  assert.match(JSON.stringify(one(volume.lifecycle).ignore_changes), /availability_zone/, 'a volume never moves zone');
  assert.equal(volume.final_snapshot, true);
  assert.equal(resource(await mod('catalog'), 'aws_db_instance', 'catalog').deletion_protection, true);
  for (const [m, name] of [['nodes', 'node'], ['routers', 'router'], ['catalog', 'service']]) {
    const instance = resource(await mod(m), 'aws_instance', name);
    const ignored = JSON.stringify(one(instance.lifecycle).ignore_changes);
    for (const attr of ['ami', 'user_data', 'user_data_base64']) {
      assert.match(ignored, new RegExp(`\\b${attr}\\b`), `${m}: instances ignore ${attr} after creation`);
    }
    assert.equal(instance.user_data_replace_on_change, undefined, `${m}: no replacement on user data changes`);
  }
});

function devices(entries) {
  const dir = mkdtempSync(join(tmpdir(), 'by-id-'));
  for (const [name, target] of Object.entries(entries)) symlinkSync(target, join(dir, name));
  return dir;
}

function setupDisks(args) {
  return spawnSync('bash', [join(TF, 'modules/bootstrap/setup-disks.sh'), '--dry-run', ...args], { encoding: 'utf8' });
}

test('disk setup on a c5 (no instance store): formats the empty EBS volume and stages on it', () => {
  const dir = devices({ 'nvme-Amazon_Elastic_Block_Store_vol0abc123': '/dev/nvme1n1' });
  const r = setupDisks(['--by-id-dir', dir, '--ebs-volume', 'vol-0abc123', '--wait-seconds', '1', '--owner', 'floe',
    '--properties', '/run/floe/p']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /would run: mkfs.xfs -L floe-data \/dev\/nvme1n1/);
  assert.match(r.stdout, /would run: mount -o noatime \/dev\/nvme1n1 \/var\/lib\/floe/);
  assert.match(r.stdout, /would set in \/etc\/fstab: UUID=uuid-of-nvme1n1 \/var\/lib\/floe xfs defaults,noatime,nofail/);
  assert.match(r.stdout, /would run: chown floe:floe \/var\/lib\/floe\/rocksdb/);
  assert.match(r.stdout, /would write \/run\/floe\/p: catalog.s3.staging-dir=\/var\/lib\/floe\/s3-staging/);
  assert.match(r.stdout, /no NVMe instance store/);
  assert.match(r.stdout, /staging: \/var\/lib\/floe$/m);
});

test('disk setup on a c5d after instance replacement: keeps the data, formats the instance store', () => {
  const dir = devices({
    'nvme-Amazon_Elastic_Block_Store_vol0abc123': '/dev/nvme2n1',
    'nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1A2B3C': '/dev/nvme1n1',
    'nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1A2B3C-part1': '/dev/nvme1n1p1',
  });
  const r = setupDisks(['--by-id-dir', dir, '--ebs-volume', 'vol-0abc123', '--assume-formatted', '/dev/nvme2n1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /keeping the file system on \/dev\/nvme2n1/);
  assert.doesNotMatch(r.stdout, /mkfs.xfs -L floe-data/);
  assert.match(r.stdout, /would run: mkfs.xfs -L floe-staging \/dev\/nvme1n1\n/);
  assert.match(r.stdout, /would run: mount -o noatime \/dev\/nvme1n1 \/mnt\/floe-staging/);
  assert.doesNotMatch(r.stdout, /fstab: .*floe-staging/, 'the instance store is blank after a stop: never in fstab');
  assert.match(r.stdout, /staging: \/mnt\/floe-staging$/m);
});

test('disk setup refuses to go on without its EBS volume, and rejects a bad volume id', () => {
  const dir = devices({});
  const missing = setupDisks(['--by-id-dir', dir, '--ebs-volume', 'vol-0abc123', '--wait-seconds', '1']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /EBS volume vol-0abc123 is not attached/);
  const bad = setupDisks(['--by-id-dir', dir, '--ebs-volume', 'disk1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /must be an EBS volume id/);
});

test('the operations output carries every key the cluster scripts read', () => {
  const scripts = readText(REPO, 'scripts/lib/cluster.sh');
  const read = [...scripts.matchAll(/jq -r '?\(?\.([a-z_]+)/g)].map((m) => m[1]);
  assert.ok(read.length >= 6, `found only ${read} in cluster.sh`);
  const outputs = readText(TF, 'outputs.tf');
  const block = outputs.slice(outputs.indexOf('output "operations"'));
  const value = block.slice(block.indexOf('value = {'), block.indexOf('\n  }\n'));
  for (const k of read) assert.match(value, new RegExp(`\\n\\s+${k}\\s+=`), `operations output lacks ${k}`);
});
