package io.floe.catalog.local;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.iceberg.util.JsonUtil;

/**
 * {@code scripts/floe status [--watch]}: the router's {@code /v1/cluster} at a glance in a terminal
 * (what needs attention first, one line per node, the table, the streams), for people and scripts:
 * exit 0 when healthy (warnings included), 1 when something is unhealthy (a node not ready or
 * unreachable, salvage needed) or nothing is known yet (the router has no sample), 2 on a usage
 * error, 3 when the router cannot be asked (unreachable, token refused).
 */
public final class ClusterStatus {
  static final String USAGE =
      """
      usage: scripts/floe status [--router URL] [--token T] [--watch [SECONDS]] [--json]
        one line per node, the table and the streams, what needs attention first;
        exit 0 healthy, 1 unhealthy, 2 usage error, 3 router unreachable or token refused
        --router defaults to $FLOE_ROUTER_URL or http://127.0.0.1:8080; --token to $FLOE_READ_TOKEN,
        else $FLOE_ADMIN_TOKEN (a token with the read scope); --watch redraws every SECONDS (2)""";

  static final int HEALTHY = 0;
  static final int UNHEALTHY = 1;
  static final int USAGE_ERROR = 2;
  static final int UNREACHABLE = 3;

  private final PrintStream out;
  private final PrintStream err;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public ClusterStatus(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new ClusterStatus(System.out, System.err).run(args));
  }

  public int run(String[] argv) {
    String router = System.getenv().getOrDefault("FLOE_ROUTER_URL", "http://127.0.0.1:8080");
    String token = System.getenv("FLOE_READ_TOKEN");
    if (token == null || token.isBlank()) {
      token = System.getenv("FLOE_ADMIN_TOKEN");
    }
    double watch = 0;
    boolean json = false;
    List<String> args = new ArrayList<>(List.of(argv));
    try {
      while (!args.isEmpty()) {
        String option = args.remove(0);
        switch (option) {
          case "--router" -> router = value(args, option);
          case "--token" -> token = value(args, option);
          case "--json" -> json = true;
          case "--watch" -> {
            watch = 2;
            if (!args.isEmpty() && !args.get(0).startsWith("--")) {
              watch = Double.parseDouble(args.remove(0));
              if (!(watch >= 0.5 && watch <= 3600)) {
                throw new IllegalArgumentException("--watch SECONDS must be 0.5..3600");
              }
            }
          }
          case "--help", "-h" -> {
            out.println(USAGE);
            return HEALTHY;
          }
          default -> throw new IllegalArgumentException("unknown option " + option);
        }
      }
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE);
      return USAGE_ERROR;
    }
    String base = router.endsWith("/") ? router.substring(0, router.length() - 1) : router;
    while (true) {
      int code = once(base, token, json, watch > 0);
      if (watch <= 0) {
        return code;
      }
      try {
        Thread.sleep((long) (watch * 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return code;
      }
    }
  }

  private static String value(List<String> args, String option) {
    if (args.isEmpty()) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args.remove(0);
  }

  private int once(String router, String token, boolean json, boolean clear) {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(router + "/v1/cluster")).timeout(Duration.ofSeconds(10));
    if (token != null && !token.isBlank()) {
      req.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r;
    try {
      r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      err.println("floe status: cannot reach the router at " + router + ": " + e);
      return UNREACHABLE;
    }
    if (r.statusCode() != 200) {
      err.println(
          "floe status: "
              + router
              + "/v1/cluster answered "
              + r.statusCode()
              + (r.statusCode() == 401 || r.statusCode() == 403
                  ? " (a token with the read scope is needed: --token or $FLOE_READ_TOKEN)"
                  : "")
              + ": "
              + r.body());
      return UNREACHABLE;
    }
    JsonNode cluster;
    try {
      cluster = JsonUtil.mapper().readTree(r.body());
    } catch (Exception e) {
      err.println("floe status: " + router + "/v1/cluster is not JSON: " + e.getMessage());
      return UNREACHABLE;
    }
    if (clear) {
      out.print("\033[H\033[2J");
    }
    if (json) {
      out.println(r.body());
    } else {
      out.print(render(cluster));
    }
    out.flush();
    return exitCode(cluster);
  }

  /** 0 when nothing critical needs attention (and a sample exists), else 1. */
  static int exitCode(JsonNode cluster) {
    String status = cluster.path("status").asText("unknown");
    return status.equals("ok") || status.equals("warning") ? HEALTHY : UNHEALTHY;
  }

  /** The terminal view of one {@code /v1/cluster} answer. */
  static String render(JsonNode c) {
    StringBuilder b = new StringBuilder();
    JsonNode nodes = c.path("nodes");
    int ready = 0;
    for (JsonNode n : nodes) {
      ready += n.path("ready").asBoolean() ? 1 : 0;
    }
    JsonNode series = c.path("series");
    b.append(
        String.format(
            Locale.ROOT,
            "floe cluster: %s  %d/%d nodes ready  %s events/s  %s MB/s  ack p99 %s ms  (sampled %s)%n",
            c.path("status").asText("unknown").toUpperCase(Locale.ROOT),
            ready,
            nodes.size(),
            last(series.path("events_per_second"), 0),
            last(series.path("mb_per_second"), 2),
            last(series.path("ack_p99_ms"), 1),
            c.path("sampled_at").asText("never")));
    JsonNode attention = c.path("attention");
    if (attention.isEmpty()) {
      b.append("attention: nothing\n");
    } else {
      b.append("attention:\n");
      for (JsonNode a : attention) {
        b.append("  ")
            .append(a.path("level").asText().equals("critical") ? "!! " : " ~ ")
            .append(a.path("subject").asText())
            .append(": ")
            .append(a.path("message").asText())
            .append('\n');
      }
    }
    b.append(
        String.format(
            Locale.ROOT,
            "%-22s %4s %-22s %5s %6s %9s %7s %7s %-12s %12s %5s%n",
            "NODE",
            "PART",
            "STATE",
            "EPOCH",
            "BUFFER",
            "EVENTS/S",
            "MB/S",
            "LAG S",
            "LAST COMMIT",
            "COMMITS(RTR)",
            "KEYS"));
    for (JsonNode n : nodes) {
      String state =
          n.path("ready").asBoolean() ? "ready" : "NOT READY " + n.path("reason").asText("?");
      if (n.path("salvage_needed").asBoolean()) {
        state += " +salvage";
      }
      b.append(
          String.format(
              Locale.ROOT,
              "%-22s %4s %-22s %5s %5s%% %9s %7s %7s %-12s %12s %5s%n",
              n.path("node").asText(),
              text(n.path("partition_id"), 0),
              state,
              text(n.path("epoch"), 0),
              n.has("buffer_fill") ? Math.round(n.path("buffer_fill").asDouble() * 100) : "-",
              text(n.path("events_per_second"), 0),
              text(n.path("mb_per_second"), 2),
              text(n.path("flush_lag_seconds"), 1),
              ago(n.path("last_commit")),
              text(n.path("commit_attempts_total"), 0)
                  + "("
                  + text(n.path("commit_retries_total"), 0)
                  + ")",
              text(n.path("idempotency_keys"), 0)));
    }
    JsonNode t = c.path("table");
    if (t.path("reachable").asBoolean()) {
      JsonNode m = t.path("maintenance");
      b.append(
          String.format(
              Locale.ROOT,
              "table: %s snapshots, %s data files (%s small), metadata %s bytes, median new file %s"
                  + " bytes; maintenance %s by %s; %d typed columns%n",
              text(t.path("snapshots"), 0),
              text(t.path("data_files"), 0),
              text(t.path("small_files"), 0),
              text(t.path("metadata_bytes"), 0),
              text(t.path("median_file_bytes_recently"), 0),
              ago(m.path("last_run")),
              m.path("lease_holder").asText("nobody"),
              t.path("columns").size()));
    } else {
      b.append("table: ").append(t.path("error").asText("not sampled")).append('\n');
    }
    JsonNode streams = c.path("streams");
    if (!streams.isEmpty()) {
      b.append("streams:");
      for (JsonNode s : streams) {
        b.append(
            String.format(
                Locale.ROOT,
                " %s %s ev/s %s B/s %s err/s;",
                s.path("stream").asText(),
                text(s.path("events_per_second"), 0),
                text(s.path("bytes_per_second"), 0),
                text(s.path("errors_per_second"), 2)));
      }
      b.setLength(b.length() - 1);
      b.append('\n');
    }
    return b.toString();
  }

  private static String last(JsonNode values, int digits) {
    for (int i = values.size() - 1; i >= 0; i--) {
      if (!values.get(i).isNull()) {
        return text(values.get(i), digits);
      }
    }
    return "-";
  }

  private static String text(JsonNode v, int digits) {
    if (v == null || v.isMissingNode() || v.isNull()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%." + digits + "f", v.asDouble());
  }

  private static String ago(JsonNode iso) {
    if (iso == null || iso.isMissingNode() || iso.isNull()) {
      return "never";
    }
    try {
      long s = Duration.between(Instant.parse(iso.asText()), Instant.now()).toSeconds();
      return s < 120 ? s + " s ago" : s < 7200 ? s / 60 + " min ago" : s / 3600 + " h ago";
    } catch (RuntimeException e) {
      return iso.asText();
    }
  }
}
