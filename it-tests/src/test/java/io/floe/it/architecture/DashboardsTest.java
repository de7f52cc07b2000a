package io.floe.it.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The two dashboards show the same panels (docs/grafana-floe.json for Prometheus, the CloudWatch
 * dashboard of terraform/modules/dashboard), and every metric either reads is one Floe's code
 * registers: a renamed metric fails here, not on an operator's empty chart.
 */
class DashboardsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern METRIC = Pattern.compile("floe_[a-z0-9_]+");
  private static final Pattern TF_TITLE = Pattern.compile("\\{ title = \"([^\"]+)\"");

  @Test
  void grafanaAndCloudWatchShowTheSamePanels() throws IOException {
    List<String> grafana = new ArrayList<>();
    for (Object p : grafana().getJsonArray("panels")) {
      grafana.add(((JsonObject) p).getString("title"));
    }
    List<String> cloudwatch = new ArrayList<>();
    Matcher m = TF_TITLE.matcher(Files.readString(cloudwatchModule()));
    while (m.find()) {
      cloudwatch.add(m.group(1));
    }
    assertThat(grafana).isNotEmpty().isEqualTo(cloudwatch);
  }

  @Test
  void everyMetricTheDashboardsReadIsRegisteredByFloe() throws IOException {
    Set<String> registered = registeredMetrics();
    Set<String> read = new TreeSet<>();
    for (Object p : grafana().getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets", new JsonArray())) {
        Matcher m = METRIC.matcher(((JsonObject) t).getString("expr"));
        while (m.find()) {
          read.add(m.group());
        }
      }
    }
    Matcher m = METRIC.matcher(Files.readString(cloudwatchModule()));
    while (m.find()) {
      read.add(m.group());
    }
    assertThat(read).isNotEmpty();
    for (String metric : read) {
      String base = metric.replaceAll("_(bucket|sum|count|total)$", "");
      assertThat(registered.contains(metric) || registered.contains(base))
          .as("%s is registered in main code (a metric name literal)", metric)
          .isTrue();
    }
  }

  private static JsonObject grafana() throws IOException {
    return new JsonObject(Files.readString(ROOT.resolve("docs/grafana-floe.json")));
  }

  private static Path cloudwatchModule() {
    return ROOT.resolve("terraform/modules/dashboard/main.tf");
  }

  /** Every {@code "floe_..."} string literal in main Java code. */
  private static Set<String> registeredMetrics() throws IOException {
    Pattern literal = Pattern.compile("\"(floe_[a-z0-9_]+)\"");
    Set<String> out = new TreeSet<>();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(ROOT)) {
      sources =
          files
              .filter(f -> f.toString().endsWith(".java"))
              .filter(f -> f.toString().contains("/src/main/java/"))
              .filter(f -> !f.toString().contains("/target/"))
              .collect(Collectors.toList());
    }
    for (Path f : sources) {
      Matcher m = literal.matcher(Files.readString(f));
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }
}
