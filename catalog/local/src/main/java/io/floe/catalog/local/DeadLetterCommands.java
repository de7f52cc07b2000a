package io.floe.catalog.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.util.JsonUtil;

/**
 * {@code scripts/floe dead-letter list|show|replay}: dead letters through the nodes' {@code
 * /floe/v1/dead-letter} API. Each node lists and replays its own partition's dead letters, so the
 * command asks every node ({@code --nodes}, default {@code $FLOE_NODE_URLS} or the local cluster's
 * three) and adds up the answers; or a router ({@code --router}, behind the load balancer), which
 * asks every node itself and answers the sums (an error naming a node that failed).
 */
final class DeadLetterCommands {
  private static final String ROOT = "/floe/v1/dead-letter";
  private final FloeCli cli;
  private final String token;
  private List<String> nodes =
      List.of(
          System.getenv()
              .getOrDefault(
                  "FLOE_NODE_URLS",
                  "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083")
              .split(","));
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  DeadLetterCommands(FloeCli cli, String token) {
    this.cli = cli;
    this.token = token;
  }

  int run(List<String> args) throws Exception {
    String command = args.remove(0);
    Map<String, String> filter = new TreeMap<>();
    String id = null;
    if (command.equals("show")) {
      if (args.isEmpty() || args.get(0).startsWith("--")) {
        throw new FloeCli.Usage("dead-letter show needs an ID (partition-sequence)");
      }
      id = args.remove(0);
      filter.put("ids", id);
    }
    while (!args.isEmpty()) {
      String option = args.remove(0);
      switch (option) {
        case "--nodes" -> nodes = List.of(FloeCli.value(args, option).split(","));
        case "--router" -> nodes = List.of(FloeCli.value(args, option));
        case "--stream", "--code", "--since", "--until", "--limit", "--ids", "--after" ->
            filter.put(option.substring(2), FloeCli.value(args, option));
        default ->
            throw new FloeCli.Usage("unknown option for dead-letter " + command + ": " + option);
      }
    }
    return switch (command) {
      case "list" -> list(filter, false);
      case "show" -> list(filter, true);
      case "replay" -> replay(filter);
      default -> throw new FloeCli.Usage("unknown dead-letter command " + command);
    };
  }

  private int list(Map<String, String> filter, boolean full) throws Exception {
    StringBuilder query = new StringBuilder();
    filter.forEach(
        (k, v) ->
            query
                .append(query.isEmpty() ? "?" : "&")
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "STREAM", "CODE", "AT", "INGEST_TIME", "REPLAYS", "DETAIL"});
    ArrayNode all = JsonUtil.mapper().createArrayNode();
    // where the next list goes on: each partition's last listed id, else the one --after gave
    Map<String, String> next = new TreeMap<>();
    for (String id : filter.getOrDefault("after", "").split(",")) {
      if (id.contains("-")) {
        next.put(id.substring(0, id.indexOf('-')).trim(), id.trim());
      }
    }
    boolean truncated = false;
    for (String node : nodes) {
      JsonNode answer = call(node, "GET", ROOT + query, null);
      if (answer == null) {
        return 1;
      }
      truncated |= answer.path("truncated").asBoolean(false);
      if (answer.hasNonNull("next_after")) {
        // a router's: every partition's place already
        for (String id : answer.get("next_after").asText().split(",")) {
          next.put(id.substring(0, id.indexOf('-')), id);
        }
      }
      for (JsonNode d : answer.get("dead_letters")) {
        all.add(d);
        String id = d.get("id").asText();
        if (!answer.hasNonNull("next_after") && id.contains("-")) {
          next.put(id.substring(0, id.indexOf('-')), id);
        }
        rows.add(
            new String[] {
              d.get("id").asText(),
              d.get("stream").asText(),
              d.get("code").asText(),
              d.path("position").asText("-"),
              d.get("ingest_time").asText(),
              d.get("replay_count").asText(),
              abbreviate(d.path("detail").asText(""), 80)
            });
      }
    }
    if (cli.json()) {
      cli.out().println(all);
    } else if (full) {
      if (all.isEmpty()) {
        cli.err()
            .println("error: no dead letter waiting for a replay has the id " + filter.get("ids"));
        return 1;
      }
      JsonNode d = all.get(0);
      d.fieldNames()
          .forEachRemaining(
              f -> {
                if (!f.equals("raw_base64")) {
                  cli.out().println(f + ": " + d.get(f).asText());
                }
              });
      if (!d.hasNonNull("raw_base64")) {
        // the nodes show a stream's raw bytes to the scope that may replay them only
        cli.err()
            .println(
                "raw bytes not shown: they need a token with the admin scope (--token or"
                    + " $FLOE_ADMIN_TOKEN); this one may read the rest only");
        return 0;
      }
      byte[] raw = Base64.getDecoder().decode(d.get("raw_base64").asText());
      cli.out().println("raw (" + raw.length + " bytes):");
      cli.out().println(new String(raw, StandardCharsets.UTF_8));
    } else {
      cli.print(rows);
    }
    if (truncated && !full) {
      cli.err()
          .println(
              "more dead letters wait (cut at --limit or at a node's dead-letter.read-budget-bytes):"
                  + " list the next ones with --after "
                  + String.join(",", next.values()));
    }
    return 0;
  }

  private int replay(Map<String, String> filter) throws Exception {
    ObjectNode body = JsonUtil.mapper().createObjectNode();
    filter.forEach(
        (k, v) -> {
          if (k.equals("ids")) {
            ArrayNode ids = body.putArray("ids");
            for (String id : v.split(",")) {
              ids.add(id.trim());
            }
          } else {
            body.put(k, v);
          }
        });
    long replayed = 0;
    long failed = 0;
    long already = 0;
    boolean truncated = false;
    for (String node : nodes) {
      JsonNode answer = call(node, "POST", ROOT + "/replay", body.toString());
      if (answer == null) {
        return 1;
      }
      replayed += answer.get("replayed").asLong();
      failed += answer.get("failed_again").asLong();
      already += answer.get("already_replayed").asLong();
      truncated |= answer.path("truncated").asBoolean(false);
    }
    if (!cli.json()) {
      cli.out()
          .println(
              "replayed: "
                  + replayed
                  + " became events, "
                  + failed
                  + " failed again (new dead letters, replay count raised), "
                  + already
                  + " had been replayed before");
    }
    if (truncated) {
      // not an error: what was replayed is done, the rest waits for the same replay again
      cli.err()
          .println(
              "more dead letters match and wait: a replay takes at most --limit (default 1000) per"
                  + " node; run the same replay again to go on (what was replayed is not replayed"
                  + " again)");
    }
    return 0;
  }

  private JsonNode call(String node, String method, String path, String body) throws Exception {
    ApiCall.Answer answer =
        ApiCall.send(http, node, method, path, body, token, Duration.ofMinutes(10));
    if (!answer.ok() || answer.json() == null) {
      cli.err().println("error: " + node + " answered " + answer.status() + " " + answer.detail());
      return null;
    }
    if (cli.json() && method.equals("POST")) {
      cli.out().println(answer.body());
    }
    return answer.json();
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
