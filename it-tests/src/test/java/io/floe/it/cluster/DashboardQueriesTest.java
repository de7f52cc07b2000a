package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.net.FreePort;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard (docs/grafana-floe.json) against a running cluster: a real Prometheus
 * scrapes two node processes (coordinated commits), a router and the catalog service (with their
 * tokens) while producers write through the router, and every query of every panel must run and
 * return series — a dashboard whose query names a metric wrongly, sums a label that does not exist
 * or reads a histogram by the wrong name shows an empty chart, and fails here. The panel sets, as
 * Prometheus draws the same queries, are saved as screenshots in {@code
 * target/dashboard-screenshots/} when Chromium is installed. Skips, with one line saying what to
 * install, without Prometheus.
 */
class DashboardQueriesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path SHOTS = Path.of("target", "dashboard-screenshots");

  /** What Grafana puts for {@code $__rate_interval}: four scrapes at least. */
  private static final String RATE_INTERVAL = "15s";

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyPanelShowsDataFromALiveCluster(@TempDir Path dir) throws Exception {
    Path prometheus = prometheusBinary();
    if (prometheus == null) {
      System.err.println(
          "DashboardQueriesTest SKIPPED: no prometheus binary (apt-get install prometheus)");
    }
    Assumptions.assumeTrue(prometheus != null, "no prometheus binary");

    Map<String, List<String>> panels = panels();
    // coordinated, so that the committer's panels have their series too
    try (LocalCluster cluster =
        new LocalCluster(
                dir.resolve("cluster"),
                2,
                1,
                LocalCluster.Options.DEFAULT.withNodeEnv(Map.of("FLOE_COMMIT_MODE", "coordinated")))
            .start()) {
      int port = FreePort.pick();
      Path config = writeConfig(dir, cluster);
      Process server =
          new ProcessBuilder(
                  prometheus.toString(),
                  "--config.file=" + config,
                  "--storage.tsdb.path=" + dir.resolve("tsdb"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--web.enable-lifecycle")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("prometheus.log").toFile())
              .start();
      String api = "http://127.0.0.1:" + port;
      String router = "http://127.0.0.1:" + cluster.routers.get(0).port;
      AckingWriter load = new AckingWriter(router, 2, 50, "dashboard");
      try {
        awaitAllTargetsUp(api, 4);
        load.start();
        // a refused request, so the router's per-stream error counter has a series
        http.send(
            HttpRequest.newBuilder(URI.create(router + "/v1/streams/load/events"))
                .header("Content-Type", "application/x-ndjson")
                .header("Authorization", "Bearer " + LocalCluster.PRODUCER_TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{not json\n"))
                .build(),
            HttpResponse.BodyHandlers.discarding());

        Map<String, String> empty = new TreeMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        do {
          Thread.sleep(2_000);
          empty.clear();
          for (Map.Entry<String, List<String>> panel : panels.entrySet()) {
            for (String expr : panel.getValue()) {
              JsonObject answer = query(api, expr);
              assertThat(answer.getString("status"))
                  .as("Prometheus runs the query of '%s': %s", panel.getKey(), expr)
                  .isEqualTo("success");
              if (answer.getJsonObject("data").getJsonArray("result").isEmpty()) {
                empty.put(panel.getKey(), expr);
              }
            }
          }
        } while (!empty.isEmpty() && System.nanoTime() < deadline);
        assertThat(empty).as("panels whose query finds no series on a live cluster").isEmpty();
        screenshots(api, panels);
      } finally {
        load.stop();
        server.destroy();
        if (!server.waitFor(10, TimeUnit.SECONDS)) {
          server.destroyForcibly();
        }
        Files.createDirectories(SHOTS);
        Files.copy(
            dir.resolve("prometheus.log"),
            SHOTS.resolve("prometheus.log"),
            StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** Each panel's title and its queries, Grafana's interval filled in, in the dashboard's order. */
  private static Map<String, List<String>> panels() throws IOException {
    JsonObject dashboard = new JsonObject(Files.readString(ROOT.resolve("docs/grafana-floe.json")));
    Map<String, List<String>> panels = new LinkedHashMap<>();
    for (Object p : dashboard.getJsonArray("panels")) {
      JsonObject panel = (JsonObject) p;
      List<String> exprs = new ArrayList<>();
      for (Object t : panel.getJsonArray("targets", new JsonArray())) {
        exprs.add(((JsonObject) t).getString("expr").replace("$__rate_interval", RATE_INTERVAL));
      }
      panels.put(panel.getString("title"), exprs);
    }
    assertThat(panels).isNotEmpty();
    return panels;
  }

  /** Scrapes every second: nodes and router with the operator's token, the catalog service. */
  private static Path writeConfig(Path dir, LocalCluster cluster) throws IOException {
    String nodes =
        cluster.nodes.stream()
            .map(n -> "'127.0.0.1:" + n.port + "'")
            .collect(Collectors.joining(", "));
    String routers =
        cluster.routers.stream()
            .map(r -> "'127.0.0.1:" + r.port + "'")
            .collect(Collectors.joining(", "));
    String token = LocalCluster.OPERATOR_TOKEN;
    String yaml =
        "global:\n"
            + "  scrape_interval: 1s\n"
            + "  evaluation_interval: 1s\n"
            + "scrape_configs:\n"
            + "  - job_name: floe-node\n"
            + "    authorization: {credentials: '"
            + token
            + "'}\n"
            + "    static_configs: [{targets: ["
            + nodes
            + "]}]\n"
            + "  - job_name: floe-router\n"
            + "    authorization: {credentials: '"
            + token
            + "'}\n"
            + "    static_configs: [{targets: ["
            + routers
            + "]}]\n"
            + "  - job_name: floe-catalog\n"
            + "    static_configs: [{targets: ['127.0.0.1:"
            + cluster.catalog.port
            + "']}]\n";
    return Files.writeString(dir.resolve("prometheus.yml"), yaml);
  }

  private void awaitAllTargetsUp(String api, int targets) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        JsonArray up = query(api, "up == 1").getJsonObject("data").getJsonArray("result");
        if (up.size() == targets) {
          return;
        }
      } catch (IOException notYet) {
        // Prometheus is still starting
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Prometheus never scraped all " + targets + " targets: " + query(api, "up"));
      }
      Thread.sleep(500);
    }
  }

  private JsonObject query(String api, String expr) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        api
                            + "/api/v1/query?query="
                            + URLEncoder.encode(expr, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body());
  }

  /** The panels in sets of four, each set one page of Prometheus' graph view. */
  private static void screenshots(String api, Map<String, List<String>> panels) throws Exception {
    if (Chromium.missing() != null) {
      System.err.println("DashboardQueriesTest: no screenshots, " + Chromium.missing());
      return;
    }
    List<String> exprs = panels.values().stream().map(l -> l.get(0)).toList();
    Files.createDirectories(SHOTS);
    try (Chromium browser =
        new Chromium(FreePort.pick(), 1400, 3400, SHOTS.resolve("chromedriver.log"))) {
      for (int set = 0; set * 4 < exprs.size(); set++) {
        StringBuilder url = new StringBuilder(api + "/graph?");
        List<String> page = exprs.subList(set * 4, Math.min(exprs.size(), set * 4 + 4));
        for (int i = 0; i < page.size(); i++) {
          url.append(i == 0 ? "" : "&")
              .append("g")
              .append(i)
              .append(".expr=")
              .append(URLEncoder.encode(page.get(i), StandardCharsets.UTF_8))
              .append("&g")
              .append(i)
              .append(".tab=0&g")
              .append(i)
              .append(".range_input=2m");
        }
        browser.open(url.toString());
        Thread.sleep(3_000); // the charts draw after their queries answer
        browser.screenshot(SHOTS.resolve("panels-" + (set + 1) + ".png"));
      }
    }
  }

  private static Path prometheusBinary() {
    for (String dir : List.of("/usr/bin", "/usr/local/bin")) {
      Path p = Path.of(dir, "prometheus");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    try (Stream<String> path =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).filter(s -> !s.isEmpty())) {
      return path.map(d -> Path.of(d, "prometheus"))
          .filter(Files::isExecutable)
          .findFirst()
          .orElse(null);
    }
  }
}
