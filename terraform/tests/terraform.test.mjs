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

test('gp3 size, IOPS and throughput are validated and wired through to every node volume', async () => {
  const r = await root();
  const iops = one(r.variable.node_volume_iops);
  assert.equal(iops.default, 16000);
  assert.match(one(iops.validation).condition, /16000/);
  assert.match(one(one(r.variable.node_volume_throughput_mibps).validation).condition, /1000/);
  const nodes = one(r.module.nodes);
  assert.equal(nodes.volume_iops, '${var.node_volume_iops}');
  assert.equal(nodes.volume_throughput_mibps, '${var.node_volume_throughput_mibps}');
  assert.equal(nodes.volume_size_gib, '${var.node_volume_size_gib}');
  assert.equal(nodes.node_count, '${var.node_count}');
  const vol = resource(await mod('nodes'), 'aws_ebs_volume', 'data');
  assert.equal(vol.type, 'gp3');
  assert.equal(vol.iops, '${var.volume_iops}');
  assert.equal(vol.throughput, '${var.volume_throughput_mibps}');
  assert.equal(vol.count, '${var.node_count}');
  assert.equal(vol.encrypted, true);
});

test('a node volume outlives its instance: separate volume, attachment, and a stable network interface', async () => {
  const m = await mod('nodes');
  const instance = resource(m, 'aws_instance', 'node');
  assert.equal(instance.ebs_block_device, undefined, 'the data volume must not be an instance block device');
  assert.equal(one(instance.root_block_device).delete_on_termination, true);
  const attach = resource(m, 'aws_volume_attachment', 'data');
  assert.equal(attach.volume_id, '${aws_ebs_volume.data[count.index].id}');
  assert.equal(attach.instance_id, '${aws_instance.node[count.index].id}');
  assert.ok(resource(m, 'aws_network_interface', 'node'), 'a network interface per node keeps its address');
  assert.match(instance.user_data, /partition_id\s*=\s*count.index/);
  assert.match(instance.user_data, /volume_id\s*=\s*aws_ebs_volume.data\[count.index\].id/);
  assert.equal(one(instance.metadata_options).http_tokens, 'required');
});

test('node boot: JRE, disks by NVMe id with noatime, configuration, systemd with restart', () => {
  const userData = readText(TF, 'modules/nodes/user_data.sh.tftpl');
  assert.match(userData, /dnf install -y -q java-17-amazon-corretto-headless/);
  assert.match(userData, /setup-disks\.sh --ebs-volume \$\{volume_id\}/);
  assert.match(userData, /node\.partition-id=\$\{partition_id\}/);
  assert.match(userData, /buffer\.dir=\/var\/lib\/floe\/rocksdb/);
  assert.match(userData, /catalog\.\$\{key\}=\$\{value\}/);
  assert.match(userData, /Restart=always/);
  assert.match(userData, /systemctl enable --now floe-node/);
  const disks = readText(TF, 'modules/nodes/scripts/setup-disks.sh');
  assert.match(disks, /nvme-Amazon_Elastic_Block_Store_/);
  assert.match(disks, /nvme-Amazon_EC2_NVMe_Instance_Storage_/);
  assert.match(disks, /noatime/);
  assert.match(disks, /mkfs\.xfs/);
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

test('routers get the node membership rendered from the node addresses', async () => {
  const r = await root();
  assert.equal(one(r.module.routers).node_addresses, '${module.nodes.addresses}');
  const userData = readText(TF, 'modules/routers/user_data.sh.tftpl');
  assert.match(userData, /FLOE_ROUTER_NODES_FILE=\/etc\/floe\/nodes/);
  assert.match(userData, /%\{ for address in node_addresses ~\}/);
  assert.match(userData, /Restart=always/);
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

test('IAM is least privilege: bucket prefix only, chosen catalog only, SSM instead of SSH', async () => {
  const m = await mod('iam');
  const text = readText(TF, 'modules/iam/main.tf');
  assert.doesNotMatch(text, /"s3:\*"/, 'no s3:* grants');
  assert.match(text, /\$\{var.bucket_arn\}\/\$\{var.warehouse_prefix\}\/\*/);
  assert.match(text, /var.catalog_type != "glue" \? \[\] :/);
  assert.match(text, /var.catalog_type != "s3tables" \? \[\] :/);
  assert.equal(resource(m, 'aws_iam_role_policy_attachment', 'ssm').policy_arn,
    'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore');
  const r = await root();
  assert.deepEqual(one(r.variable.ssh_cidrs).default, []);
  for (const name of ['nodes', 'routers', 'catalog']) {
    const sgText = readText(TF, `modules/${name}/main.tf`);
    const ssh = sgText.match(/from_port\s*=\s*22[\s\S]*?cidr_blocks\s*=\s*(\S+)/);
    assert.ok(ssh, `${name}: SSH rule`);
    assert.equal(ssh[1], 'var.ssh_cidrs');
    assert.match(sgText, /for_each = length\(var.ssh_cidrs\) > 0 \? \[1\] : \[\]/, `${name}: SSH only when asked`);
  }
  const token = one(r.variable.ingest_token);
  assert.equal(token.sensitive, true);
  assert.ok(r.resource.aws_secretsmanager_secret.ingest_token, 'the token is a secret, not user data');
  assert.doesNotMatch(readText(TF, 'modules/nodes/user_data.sh.tftpl'), /ingest_token\}/);
});

test('each catalog type has its resources, and only those', async () => {
  const m = await mod('catalog');
  assert.match(resource(m, 'aws_db_instance', 'catalog').count, /local.floe/);
  assert.equal(resource(m, 'aws_db_instance', 'catalog').publicly_accessible, false);
  assert.equal(resource(m, 'aws_db_instance', 'catalog').storage_encrypted, true);
  assert.equal(resource(m, 'aws_db_instance', 'catalog').manage_master_user_password, true);
  assert.match(resource(m, 'aws_instance', 'service').count, /local.floe/);
  assert.match(resource(m, 'aws_glue_catalog_database', 'floe').count, /local.glue/);
  assert.match(resource(m, 'aws_s3tables_table_bucket', 'floe').count, /local.s3tables/);
  const r = await root();
  const v = one(r.variable.catalog_type);
  assert.match(one(v.validation).condition, /"floe", "glue", "s3tables"/);
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
    'scripts/bench-flush', 'scripts/package', 'scripts/bench', 'terraform/modules/nodes/scripts/setup-disks.sh',
  ].map((p) => join(REPO, p));
  const r = spawnSync('shellcheck', ['-x', '-P', join(REPO, 'scripts'), ...scripts], { encoding: 'utf8' });
  assert.ok(!r.error, `shellcheck is not installed (apt-get install shellcheck; .ci/run does): ${r.error}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

function devices(entries) {
  const dir = mkdtempSync(join(tmpdir(), 'by-id-'));
  for (const [name, target] of Object.entries(entries)) symlinkSync(target, join(dir, name));
  return dir;
}

function setupDisks(args) {
  return spawnSync('bash', [join(TF, 'modules/nodes/scripts/setup-disks.sh'), '--dry-run', ...args], { encoding: 'utf8' });
}

test('disk setup on a c5 (no instance store): formats the empty EBS volume and stages on it', () => {
  const dir = devices({ 'nvme-Amazon_Elastic_Block_Store_vol0abc123': '/dev/nvme1n1' });
  const r = setupDisks(['--by-id-dir', dir, '--ebs-volume', 'vol-0abc123', '--wait-seconds', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /would run: mkfs.xfs -L floe-data \/dev\/nvme1n1/);
  assert.match(r.stdout, /would run: mount -o noatime \/dev\/nvme1n1 \/var\/lib\/floe/);
  assert.match(r.stdout, /LABEL=floe-data \/var\/lib\/floe xfs defaults,noatime,nofail/);
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
