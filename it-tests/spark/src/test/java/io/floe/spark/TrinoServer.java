package io.floe.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One Trino server (coordinator and worker in one process) started from an unpacked {@link
 * TrinoInstall} home with {@code etc/} files written here, one catalog file per entry of {@code
 * catalogs}; queried over Trino's client protocol ({@code POST /v1/statement}, then {@code nextUri}
 * until there is none).
 */
final class TrinoServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Process process;
  private final Path log;
  private final int port;

  /** A query Trino refused or failed, with Trino's message and error name. */
  static final class QueryFailed extends RuntimeException {
    QueryFailed(String message) {
      super(message);
    }
  }

  /**
   * Starts Trino with {@code java} from {@code home}, its configuration and data in {@code dir}
   * (its logs {@code stdout.log} and {@code server.log}); {@link #awaitQueries} waits until it runs
   * queries.
   */
  TrinoServer(Path java, Path home, Path dir, Map<String, Map<String, String>> catalogs)
      throws Exception {
    TrinoInstall.deleteTree(dir);
    Path etc = Files.createDirectories(dir.resolve("etc/catalog"));
    port = FloeServices.freePort();
    Map<String, String> config = new TreeMap<>();
    config.put("node.environment", "floe_test");
    config.put("node.id", "floe-test");
    // its log file (stdout.log has the same lines, and the JVM's own before logging starts)
    config.put("log.path", dir.resolve("server.log").toString());
    config.put("coordinator", "true");
    config.put("node-scheduler.include-coordinator", "true");
    config.put("http-server.http.port", Integer.toString(port));
    config.put("discovery.uri", "http://127.0.0.1:" + port);
    config.put("node.internal-address", "127.0.0.1");
    config.put("query.max-memory", "512MB");
    config.put("query.max-memory-per-node", "512MB");
    config.put("catalog.config-dir", etc.toString());
    config.put("plugin.dir", home.resolve("plugin").toString());
    Path configFile = write(dir.resolve("etc/config.properties"), config);
    for (Map.Entry<String, Map<String, String>> c : catalogs.entrySet()) {
      write(etc.resolve(c.getKey() + ".properties"), c.getValue());
    }
    log = dir.resolve("stdout.log");
    List<String> cmd =
        List.of(
            java.toString(),
            "-Xmx1536m",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            // C1 only: a test's few small queries gain nothing from C2, start-up on 2 cores does
            "-XX:TieredStopAtLevel=1",
            "-Djdk.attach.allowAttachSelf=true",
            "-XX:+EnableDynamicAgentLoading",
            "--enable-native-access=ALL-UNNAMED",
            "-Dfile.encoding=UTF-8",
            "-Dconfig=" + configFile,
            "-cp",
            home.resolve("lib") + "/*",
            "io.trino.server.TrinoServer");
    process =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
  }

  /** Rows of a query's result, each a list of JSON values (varbinary comes as base64 text). */
  List<List<JsonNode>> query(String sql) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/statement"))
                .header("X-Trino-User", "floe-test")
                .timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString(sql))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    List<List<JsonNode>> rows = new ArrayList<>();
    while (true) {
      if (r.statusCode() != 200) {
        throw new QueryFailed("Trino answered " + r.statusCode() + ": " + r.body());
      }
      JsonNode page = JSON.readTree(r.body());
      JsonNode error = page.path("error");
      if (!error.isMissingNode() && !error.isNull()) {
        throw new QueryFailed(
            error.path("errorName").asText() + ": " + error.path("message").asText());
      }
      for (JsonNode row : page.path("data")) {
        List<JsonNode> values = new ArrayList<>();
        row.forEach(values::add);
        rows.add(values);
      }
      String next = page.path("nextUri").asText(null);
      if (next == null) {
        return rows;
      }
      r =
          http.send(
              HttpRequest.newBuilder(URI.create(next))
                  .header("X-Trino-User", "floe-test")
                  .timeout(Duration.ofMinutes(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    }
  }

  /**
   * Until the server has started and its one node takes work: it answers {@code /v1/info} with
   * {@code "starting":false} before it has seen itself through discovery.
   */
  void awaitQueries(Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "Trino exited with " + process.exitValue() + " at start; see " + log.getParent());
      }
      try {
        HttpResponse<String> info =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/info")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (info.statusCode() == 200 && !JSON.readTree(info.body()).path("starting").asBoolean()) {
          query("SELECT 1");
          return;
        }
        last = info.statusCode() + " " + info.body();
      } catch (IOException | QueryFailed notYet) {
        last = notYet.toString();
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "Trino not running queries within "
            + limit
            + " (last: "
            + last
            + "); see "
            + log.getParent());
  }

  private static Path write(Path file, Map<String, String> properties) throws IOException {
    StringBuilder b = new StringBuilder();
    properties.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return Files.writeString(file, b);
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
