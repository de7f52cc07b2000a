package io.floe.it.cluster;

import io.floe.catalog.local.LocalS3Main;
import io.floe.catalog.service.CatalogServiceMain;
import io.floe.common.auth.TokenStore;
import io.floe.common.net.FreePort;
import io.floe.node.NodeMain;
import io.floe.router.RouterMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntUnaryOperator;
import java.util.stream.Collectors;

/**
 * A whole Floe cluster on localhost, every member its own process: the S3-compatible server, the
 * catalog service on SQLite, N nodes, M routers, and nginx load-balancing over the routers.
 */
final class LocalCluster implements AutoCloseable {
  final Path dir;
  final JavaProcess s3;
  final JavaProcess catalog;
  final List<JavaProcess> nodes = new ArrayList<>();
  final List<JavaProcess> routers = new ArrayList<>();
  final JavaProcess nginx;

  /** Tokens of this cluster, as production has them: producers, operators, the routers. */
  static final String PRODUCER_TOKEN = "producer-" + UUID.randomUUID();

  static final String OPERATOR_TOKEN = "operator-" + UUID.randomUUID();
  static final String ROUTER_TOKEN = "router-" + UUID.randomUUID();

  /** The nodes' token for each other's hand-over route (commit.mode=coordinated). */
  private static final String CLUSTER_TOKEN = "cluster-" + UUID.randomUUID();

  /**
   * How a test wants the cluster built.
   *
   * @param catalogMaintenance whether the catalog service maintains the table
   * @param catalogPortForNodes the port the nodes reach the catalog on, given the catalog's own (a
   *     proxy's, to inject faults)
   * @param routerEnv settings every router gets besides the cluster's own
   * @param nodeEnv settings every node gets besides the cluster's own
   * @param handoverPortForNode the port other nodes reach a node's hand-over route at ({@code
   *     node.advertise-address}), given the node's own (a proxy's, to cut or hold hand-overs);
   *     identity: the node's own
   */
  record Options(
      boolean catalogMaintenance,
      IntUnaryOperator catalogPortForNodes,
      Map<String, String> routerEnv,
      Map<String, String> nodeEnv,
      IntUnaryOperator handoverPortForNode) {
    static final Options DEFAULT =
        new Options(true, IntUnaryOperator.identity(), Map.of(), Map.of());

    Options(boolean catalogMaintenance, IntUnaryOperator catalogPortForNodes) {
      this(catalogMaintenance, catalogPortForNodes, Map.of(), Map.of());
    }

    Options(
        boolean catalogMaintenance,
        IntUnaryOperator catalogPortForNodes,
        Map<String, String> routerEnv,
        Map<String, String> nodeEnv) {
      this(
          catalogMaintenance, catalogPortForNodes, routerEnv, nodeEnv, IntUnaryOperator.identity());
    }

    Options withRouterEnv(Map<String, String> env) {
      return new Options(
          catalogMaintenance, catalogPortForNodes, env, nodeEnv, handoverPortForNode);
    }

    /** These options, every node also getting {@code env} (FLOE_* variables). */
    Options withNodeEnv(Map<String, String> env) {
      return new Options(
          catalogMaintenance, catalogPortForNodes, routerEnv, env, handoverPortForNode);
    }

    /** These options, each node advertising the port {@code ports} gives for its own. */
    Options withHandoverPorts(IntUnaryOperator ports) {
      return new Options(catalogMaintenance, catalogPortForNodes, routerEnv, nodeEnv, ports);
    }
  }

  LocalCluster(Path dir, int nodeCount, int routerCount) throws Exception {
    this(dir, nodeCount, routerCount, Options.DEFAULT);
  }

  /**
   * @param routerEnv settings every router gets besides the cluster's own (the console's sample
   *     interval, for one)
   */
  LocalCluster(Path dir, int nodeCount, int routerCount, Map<String, String> routerEnv)
      throws Exception {
    this(dir, nodeCount, routerCount, Options.DEFAULT.withRouterEnv(routerEnv));
  }

  LocalCluster(Path dir, int nodeCount, int routerCount, Options options) throws Exception {
    this.dir = dir;
    Path logs = Files.createDirectories(dir.resolve("logs"));
    // routers know producers and operators; nodes know operators and the routers' own token. The
    // operator is read,admin on both, as the Terraform has it: a dead-letter replay through a
    // router is checked there and again at each node, with the operator's own token
    Path routerTokens =
        Files.write(
            dir.resolve("router-tokens"),
            List.of(
                TokenStore.line("producer", "ingest", PRODUCER_TOKEN),
                TokenStore.line("operator", "read,admin", OPERATOR_TOKEN)));
    Path nodeTokens =
        Files.write(
            dir.resolve("node-tokens"),
            List.of(
                TokenStore.line("operator", "read,admin", OPERATOR_TOKEN),
                TokenStore.line("routers", "router", ROUTER_TOKEN),
                TokenStore.line("nodes", "cluster", CLUSTER_TOKEN)));
    int s3Port = FreePort.pick();
    s3 =
        JavaProcess.java(
            "s3",
            s3Port,
            LocalS3Main.class.getName(),
            List.of("--dir", dir.resolve("s3").toString(), "--port", Integer.toString(s3Port)),
            Map.of(),
            logs,
            "512m");
    Map<String, String> storage =
        Map.of(
            "FLOE_CATALOG_S3_ENDPOINT", "http://127.0.0.1:" + s3Port,
            "FLOE_CATALOG_S3_PATH_STYLE_ACCESS", "true",
            "FLOE_CATALOG_S3_ACCESS_KEY_ID", "floe",
            "FLOE_CATALOG_S3_SECRET_ACCESS_KEY", "floe-local-secret",
            "FLOE_CATALOG_CLIENT_REGION", "us-east-1");
    int catalogPort = FreePort.pick();
    Map<String, String> catalogEnv = new HashMap<>(storage);
    catalogEnv.put("FLOE_SERVICE_PORT", Integer.toString(catalogPort));
    catalogEnv.put("FLOE_SERVICE_HOST", "127.0.0.1");
    catalogEnv.put("FLOE_CATALOG_URI", "jdbc:sqlite:" + dir.resolve("catalog.db"));
    catalogEnv.put("FLOE_AUTH_DISABLED", "true");
    // table maintenance runs throughout, with a retention short enough that snapshots are expired
    // while nodes commit, crash and recover (their state must survive it)
    catalogEnv.put("FLOE_MAINTENANCE_INTERVAL_SECONDS", "1");
    catalogEnv.put("FLOE_MAINTENANCE_SNAPSHOT_RETENTION_SECONDS", "5");
    catalogEnv.put("FLOE_MAINTENANCE_MIN_SNAPSHOTS", "3");
    if (!options.catalogMaintenance()) {
      catalogEnv.put("FLOE_MAINTENANCE_ENABLED", "false");
    }
    catalog =
        JavaProcess.java(
            "catalog",
            catalogPort,
            CatalogServiceMain.class.getName(),
            List.of(),
            catalogEnv,
            logs,
            "512m");
    int catalogPortForNodes = options.catalogPortForNodes().applyAsInt(catalogPort);
    for (int i = 0; i < nodeCount; i++) {
      int port = FreePort.pick();
      Map<String, String> env = new HashMap<>();
      env.put("FLOE_NODE_PARTITION_ID", Integer.toString(i));
      env.put("FLOE_AUTH_TOKENS_FILE", nodeTokens.toString());
      env.put("FLOE_HTTP_PORT", Integer.toString(port));
      env.put("FLOE_HTTP_HOST", "127.0.0.1");
      env.put("FLOE_HTTP_EVENT_LOOPS", "1");
      env.put("FLOE_BUFFER_DIR", dir.resolve("node-" + i).toString());
      env.put("FLOE_CATALOG_URI", "http://127.0.0.1:" + catalogPortForNodes);
      env.put("FLOE_CATALOG_S3_MULTIPART_PART_SIZE_BYTES", Long.toString(1L << 30));
      env.put("FLOE_FLUSH_MAX_AGE_SECONDS", "1");
      env.put("FLOE_FLUSH_RETRY_MAX_SECONDS", "2");
      env.put("FLOE_COMMIT_CLUSTER_TOKEN", CLUSTER_TOKEN);
      int handoverPort = options.handoverPortForNode().applyAsInt(port);
      if (handoverPort != port) {
        env.put("FLOE_NODE_ADVERTISE_ADDRESS", "127.0.0.1:" + handoverPort);
      }
      env.putAll(options.nodeEnv());
      nodes.add(
          JavaProcess.java(
              "node-" + i, port, NodeMain.class.getName(), List.of(), env, logs, "512m"));
    }
    String nodeList =
        nodes.stream().map(n -> "127.0.0.1:" + n.port).collect(Collectors.joining(","));
    for (int i = 0; i < routerCount; i++) {
      int port = FreePort.pick();
      Map<String, String> env =
          new HashMap<>(
              Map.of(
                  "FLOE_ROUTER_PORT",
                  Integer.toString(port),
                  "FLOE_ROUTER_HOST",
                  "127.0.0.1",
                  "FLOE_ROUTER_NODES",
                  nodeList,
                  "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
                  "0.25",
                  "FLOE_ROUTER_EVENT_LOOPS",
                  "1",
                  "FLOE_AUTH_TOKENS_FILE",
                  routerTokens.toString(),
                  "FLOE_ROUTER_NODE_TOKEN",
                  ROUTER_TOKEN,
                  // the console's table section reads the catalog (no token: its auth is off here)
                  "FLOE_ROUTER_CATALOG_URI",
                  "http://127.0.0.1:" + catalogPort));
      env.putAll(options.routerEnv());
      routers.add(
          JavaProcess.java(
              "router-" + i, port, RouterMain.class.getName(), List.of(), env, logs, "256m"));
    }
    int lbPort = FreePort.pick();
    Path conf = writeNginxConf(dir.resolve("nginx"), lbPort);
    nginx =
        JavaProcess.command(
            "nginx",
            lbPort,
            List.of(
                nginxBinary(),
                "-p",
                dir.resolve("nginx").toString(),
                "-c",
                conf.toString(),
                "-g",
                "daemon off;"),
            logs);
  }

  static String nginxBinary() {
    for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    throw new IllegalStateException("nginx is not installed: apt-get install nginx (.ci/run does)");
  }

  private Path writeNginxConf(Path home, int lbPort) throws Exception {
    Files.createDirectories(home.resolve("logs"));
    Files.createDirectories(home.resolve("tmp"));
    home.resolve("tmp").toFile().setWritable(true, false);
    String upstreams =
        routers.stream()
            .map(r -> "    server 127.0.0.1:" + r.port + " max_fails=1 fail_timeout=2s;")
            .collect(Collectors.joining("\n"));
    String tmp = home.resolve("tmp").toString();
    String conf =
        """
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/logs/error.log warn;
        events { worker_connections 1024; }
        http {
          access_log off;
          client_body_temp_path %2$s/body;
          proxy_temp_path %2$s/proxy;
          fastcgi_temp_path %2$s/fastcgi;
          uwsgi_temp_path %2$s/uwsgi;
          scgi_temp_path %2$s/scgi;
          upstream floe_routers {
        %3$s
            keepalive 64;
          }
          server {
            listen 127.0.0.1:%4$d;
            client_max_body_size 64m;
            location / {
              proxy_pass http://floe_routers;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_request_buffering off;
              proxy_next_upstream error timeout;
              proxy_connect_timeout 1s;
              # a dead-letter replay through a router answers once every node's replay is
              # flushed; the router itself closes a connection idle for 120 s
              proxy_read_timeout 150s;
            }
          }
        }
        """
            .formatted(home, tmp, upstreams, lbPort);
    Path file = home.resolve("nginx.conf");
    Files.writeString(file, conf);
    return file;
  }

  LocalCluster start() throws Exception {
    s3.start();
    catalog.start();
    catalog.awaitHttp("/health/ready", Duration.ofSeconds(90));
    for (JavaProcess n : nodes) {
      n.start();
    }
    for (JavaProcess n : nodes) {
      // generous: on a machine shared by several builds a node's first start (JIT, Iceberg, the
      // claims) has been seen to take over two minutes
      n.awaitHttp("/health/ready", Duration.ofSeconds(300));
    }
    for (JavaProcess r : routers) {
      r.start();
    }
    for (JavaProcess r : routers) {
      r.awaitHttp("/health/ready", Duration.ofSeconds(60));
    }
    nginx.start();
    nginx.awaitHttp("/health/ready", Duration.ofSeconds(30));
    return this;
  }

  String catalogUri() {
    return "http://127.0.0.1:" + catalog.port;
  }

  @Override
  public void close() throws Exception {
    nginx.kill();
    for (JavaProcess r : routers) {
      r.kill();
    }
    for (JavaProcess n : nodes) {
      n.kill();
    }
    catalog.kill();
    s3.kill();
  }
}
