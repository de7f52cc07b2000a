package io.floe.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Floe's local S3-compatible server, its catalog service (on SQLite, with scoped tokens) and one
 * node, each its own process started from the services' classpath ({@code floe.services.lib}), so
 * that none of Floe's classes share a JVM with Spark's.
 *
 * <p>Each query engine holds its own {@code catalog:read} token, as deployments give one to each.
 */
final class FloeServices implements AutoCloseable {
  static final String READER_TOKEN = "reader-" + UUID.randomUUID();
  static final String TRINO_TOKEN = "trino-" + UUID.randomUUID();
  static final String NODE_TOKEN = "node-" + UUID.randomUUID();
  static final String ADMIN_TOKEN = "admin-" + UUID.randomUUID();

  /** The local S3 server's one key pair. */
  static final String S3_ACCESS_KEY = "floe";

  static final String S3_SECRET_KEY = "floe-local-secret";
  private static final Pattern LAST_SEQUENCE = Pattern.compile("\"last_sequence\"\\s*:\\s*(\\d+)");

  final int catalogPort;
  final int nodePort;
  final int s3Port;
  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Path logs;
  private final Path lib;
  private final Map<String, String> catalogEnv;

  /** The local S3 server's files: {@code <bucket>/<key>}. */
  final Path s3Dir;

  private Process catalog;

  FloeServices(Path dir) throws Exception {
    this(dir, Map.of());
  }

  /** With further settings of the node ({@code FLOE_*} environment). */
  FloeServices(Path dir, Map<String, String> nodeSettings) throws Exception {
    this(dir, nodeSettings, Map.of());
  }

  /** With further settings of the node and of the catalog service ({@code FLOE_*} environment). */
  FloeServices(Path dir, Map<String, String> nodeSettings, Map<String, String> catalogSettings)
      throws Exception {
    this(dir, Ports.free(), nodeSettings, catalogSettings);
  }

  /**
   * Where the services listen, chosen before they start, so that a process started beside them (a
   * query engine) can be told their addresses while they start.
   */
  record Ports(int s3, int catalog, int node) {
    static Ports free() throws IOException {
      int s3 = freePort();
      int catalog = freePort();
      int node = freePort();
      return s3 == catalog || s3 == node || catalog == node ? free() : new Ports(s3, catalog, node);
    }

    String catalogUri() {
      return "http://127.0.0.1:" + catalog;
    }

    String s3Endpoint() {
      return "http://127.0.0.1:" + s3;
    }
  }

  /** On the given ports, with further settings of the node and of the catalog service. */
  FloeServices(
      Path dir, Ports ports, Map<String, String> nodeSettings, Map<String, String> catalogSettings)
      throws Exception {
    Path lib = Path.of(System.getProperty("floe.services.lib", "../target/lib"));
    if (!Files.isDirectory(lib)) {
      throw new IllegalStateException(
          "no services classpath at "
              + lib.toAbsolutePath()
              + ": build it-tests first (mvn -B verify builds it before this module)");
    }
    logs = Files.createDirectories(dir.resolve("logs"));
    Path tokens =
        Files.write(
            dir.resolve("catalog-tokens"),
            List.of(
                line("spark-reader", "catalog:read", READER_TOKEN),
                line("trino-reader", "catalog:read", TRINO_TOKEN),
                line("node-0", "catalog:commit", NODE_TOKEN),
                line("operator", "admin", ADMIN_TOKEN)));
    s3Port = ports.s3();
    start(
        lib,
        "s3",
        "io.floe.catalog.local.LocalS3Main",
        List.of("--dir", dir.resolve("s3").toString(), "--port", Integer.toString(s3Port)),
        Map.of());
    Map<String, String> storage =
        Map.of(
            "FLOE_CATALOG_S3_ENDPOINT",
            "http://127.0.0.1:" + s3Port,
            "FLOE_CATALOG_S3_PATH_STYLE_ACCESS",
            "true",
            "FLOE_CATALOG_S3_ACCESS_KEY_ID",
            S3_ACCESS_KEY,
            "FLOE_CATALOG_S3_SECRET_ACCESS_KEY",
            S3_SECRET_KEY,
            "FLOE_CATALOG_CLIENT_REGION",
            "us-east-1");
    catalogPort = ports.catalog();
    Map<String, String> catalogEnv = new HashMap<>(storage);
    catalogEnv.put("FLOE_SERVICE_PORT", Integer.toString(catalogPort));
    catalogEnv.put("FLOE_SERVICE_HOST", "127.0.0.1");
    catalogEnv.put("FLOE_CATALOG_URI", "jdbc:sqlite:" + dir.resolve("catalog.db"));
    catalogEnv.put("FLOE_AUTH_TOKENS_FILE", tokens.toString());
    // Spark reads with the local store's one key pair, vended with the table (a private setup)
    catalogEnv.put("FLOE_SERVICE_VEND_TO_READERS", "service-keys");
    catalogEnv.putAll(catalogSettings);
    this.lib = lib;
    this.catalogEnv = Map.copyOf(catalogEnv);
    this.s3Dir = dir.resolve("s3");
    catalog =
        start(lib, "catalog", "io.floe.catalog.service.CatalogServiceMain", List.of(), catalogEnv);
    awaitOk(catalogPort, "/health/ready", Duration.ofSeconds(90));
    nodePort = ports.node();
    Map<String, String> nodeEnv = new HashMap<>();
    nodeEnv.put("FLOE_NODE_PARTITION_ID", "0");
    nodeEnv.put("FLOE_AUTH_DISABLED", "true");
    nodeEnv.put("FLOE_HTTP_PORT", Integer.toString(nodePort));
    nodeEnv.put("FLOE_HTTP_HOST", "127.0.0.1");
    nodeEnv.put("FLOE_BUFFER_DIR", dir.resolve("node-0").toString());
    nodeEnv.put("FLOE_CATALOG_URI", "http://127.0.0.1:" + catalogPort);
    nodeEnv.put("FLOE_CATALOG_TOKEN", NODE_TOKEN);
    nodeEnv.put("FLOE_FLUSH_MAX_AGE_SECONDS", "1");
    nodeEnv.put("FLOE_FLUSH_RETRY_MAX_SECONDS", "1");
    nodeEnv.put("FLOE_COLUMNS_REFRESH_SECONDS", "1");
    nodeEnv.putAll(nodeSettings);
    start(lib, "node-0", "io.floe.node.NodeMain", List.of(), nodeEnv);
    awaitOk(nodePort, "/health/ready", Duration.ofSeconds(120));
  }

  String catalogUri() {
    return "http://127.0.0.1:" + catalogPort;
  }

  /** Posts NDJSON to the node; returns the last sequence it acknowledged. */
  long ingest(String stream, String ndjson) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + nodePort + "/v1/streams/" + stream + "/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("ingest answered " + r.statusCode() + ": " + r.body());
    }
    Matcher m = LAST_SEQUENCE.matcher(r.body());
    if (!m.find()) {
      throw new IllegalStateException("no last_sequence in " + r.body());
    }
    return Long.parseLong(m.group(1));
  }

  /** Flushes the node now (POST /v1/flush) and waits until it committed everything. */
  void flush() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodePort + "/v1/flush"))
                .timeout(Duration.ofMinutes(10))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("flush answered " + r.statusCode() + ": " + r.body());
    }
  }

  /**
   * Declares a typed column through the catalog service's column API (admin token); returns the
   * answer's status.
   */
  int addColumn(String name, String type, String path) throws Exception {
    String body = "{\"name\":\"" + name + "\",\"type\":\"" + type + "\",\"path\":\"" + path + "\"}";
    return http.send(
            HttpRequest.newBuilder(URI.create(catalogUri() + "/floe/v1/columns"))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  /** Sets a stream pattern's error policy through the catalog service's API (admin token). */
  int setStreamPolicy(String pattern, String onError) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(catalogUri() + "/floe/v1/streams/" + pattern))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"on_error\":\"" + onError + "\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  /**
   * Sends an NDJSON body to a stream whose error policy was just set, again while the node refuses
   * it with 400 (it follows policies within a second; at most 60 s); the last answer.
   */
  HttpResponse<String> sendOncePolicyFollowed(String stream, String ndjson) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> r = send(stream, ndjson);
    while (r.statusCode() == 400 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      r = send(stream, ndjson);
    }
    return r;
  }

  /** Sends an NDJSON body to the node; the answer, whatever its status. */
  HttpResponse<String> send(String stream, String ndjson) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + nodePort + "/v1/streams/" + stream + "/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(ndjson))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the node fills {@code count} typed columns (its floe_columns_active gauge). */
  void awaitNodeColumns(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodePort + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      if (metrics.contains("floe_columns_active " + count + ".0")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "the node did not follow " + count + " typed columns within 30 s; see " + logs);
  }

  /**
   * Waits (the node's receipt) until everything up to {@code sequence} is committed to the table.
   */
  void awaitCommitted(long sequence) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + nodePort
                              + "/v1/partitions/0/committed?wait_for="
                              + sequence
                              + "&timeout_seconds=10"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains("\"reached\":true")) {
        return;
      }
    }
    throw new IllegalStateException(
        "sequence " + sequence + " not committed within 120 s; see " + logs);
  }

  /**
   * Stops the catalog service (SIGTERM: it releases its maintenance lease) and starts it again on
   * the same port and database with {@code settings} over its first ones.
   */
  void restartCatalog(Map<String, String> settings) throws Exception {
    catalog.destroy();
    if (!catalog.waitFor(60, TimeUnit.SECONDS)) {
      catalog.destroyForcibly().waitFor();
    }
    processes.remove(catalog);
    Map<String, String> env = new HashMap<>(catalogEnv);
    env.putAll(settings);
    catalog = start(lib, "catalog", "io.floe.catalog.service.CatalogServiceMain", List.of(), env);
    awaitOk(catalogPort, "/health/ready", Duration.ofSeconds(90));
  }

  /** The catalog service's Prometheus text. */
  String catalogMetrics() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(catalogUri() + "/metrics"))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private Process start(
      Path lib, String name, String mainClass, List<String> args, Map<String, String> env)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                name.equals("catalog") ? "-Xmx1g" : "-Xmx512m",
                "-XX:+ExitOnOutOfMemoryError",
                "-cp",
                lib.toAbsolutePath() + "/*",
                mainClass));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("FLOE_"));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve(name + ".log").toFile()));
    Process process = pb.start();
    processes.add(process);
    return process;
  }

  private void awaitOk(int port, String path, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "a Floe service exited with " + p.exitValue() + "; see " + logs);
        }
      }
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "port " + port + " not answering " + path + " within " + limit + "; see " + logs);
  }

  /** A token file line as Floe's token store reads it: NAME SCOPES sha256:HEX. */
  private static String line(String name, String scopes, String token) throws Exception {
    byte[] hash =
        MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    return name + " " + scopes + " sha256:" + HexFormat.of().formatHex(hash);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
