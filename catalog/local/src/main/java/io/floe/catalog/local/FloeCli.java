package io.floe.catalog.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.iceberg.util.JsonUtil;

/**
 * {@code scripts/floe}: the command line for Floe's admin APIs, talking to the catalog service (the
 * local cluster's by default). Today: {@code columns add|list|drop|suggest}. Prints a table for
 * people, or the service's JSON with {@code --json}; exits 0 on success, 1 when the service refused
 * (its message on stderr), 2 on a usage error.
 */
public final class FloeCli {
  static final String USAGE =
      """
      usage: scripts/floe [--catalog URL] [--token T] [--json] columns|streams|dead-letter COMMAND
        columns add NAME TYPE --path JSON.PATH [--streams a,b] [--on-mismatch reject|null]
            TYPE: boolean int long float double decimal(P,S) string date timestamp timestamptz uuid list<TYPE>
            adding an existing column again widens it (int->long, float->double, decimal precision)
            or changes its streams / on-mismatch
        columns list [--all]          the active mappings (--all: dropped ones too)
        columns drop NAME             stop filling NAME (its values stay; the name is not reused)
        columns suggest [--stream S] [--sample N]
                                      proposes mappings from recent events, with fill rates
        streams set PATTERN --on-error reject|dead-letter|per-request
                                      what a stream does with bad records (PATTERN: a stream
                                      name or a prefix ending in '*'; the most specific wins)
        streams unset PATTERN         remove a pattern's policy
        streams list                  the patterns and their policies (unnamed streams: reject)
        dead-letter list [FILTER]     dead letters waiting for a replay, on every node
        dead-letter show ID           one dead letter (ID: partition-sequence) with its raw bytes
                                      (the bytes need an admin token; read: the rest only)
        dead-letter replay [FILTER]   replay them into their streams, exactly once; what fails
                                      again stays a dead letter with its replay count raised;
                                      at most --limit (default 1000) per node: when more wait it
                                      says so on stderr, run it again to go on
            FILTER: --stream S --code C --since T --until T (RFC 3339) --ids A,B --limit N
            list --after IDS: go on where a list was cut (the IDS it printed last)
            --nodes URL,URL (default $FLOE_NODE_URLS or the local cluster's three nodes), or
            --router URL (a router or the load balancer: it asks every node and adds up)
      --catalog defaults to $FLOE_CATALOG_URL or http://127.0.0.1:8181; --token to $FLOE_ADMIN_TOKEN
      (add and drop need an admin token; list and suggest read, catalog:read or admin;
      dead-letter list and show read, their raw bytes and replay admin).""";

  private final PrintStream out;
  private final PrintStream err;
  private String catalog =
      System.getenv().getOrDefault("FLOE_CATALOG_URL", "http://127.0.0.1:8181");
  private String token = System.getenv("FLOE_ADMIN_TOKEN");
  private boolean json;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  public FloeCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new FloeCli(System.out, System.err).run(args));
  }

  /** Usage errors (exit 2). */
  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }

  /** Runs one command line; returns the exit status. */
  public int run(String[] argv) {
    List<String> args = new ArrayList<>(List.of(argv));
    try {
      while (!args.isEmpty() && args.get(0).startsWith("--")) {
        String option = args.remove(0);
        switch (option) {
          case "--catalog" -> catalog = value(args, option);
          case "--token" -> token = value(args, option);
          case "--json" -> json = true;
          case "--help", "-h" -> {
            out.println(USAGE);
            return 0;
          }
          default -> throw new Usage("unknown option " + option);
        }
      }
      if (args.size() >= 2 && args.get(0).equals("dead-letter")) {
        args.remove(0);
        return new DeadLetterCommands(this, token).run(args);
      }
      if (args.size() >= 2 && args.get(0).equals("streams")) {
        args.remove(0);
        return new StreamCommands(this).run(args);
      }
      if (args.isEmpty() || !args.get(0).equals("columns") || args.size() < 2) {
        throw new Usage(
            args.isEmpty() ? "a command is needed" : "unknown command " + String.join(" ", args));
      }
      args.remove(0);
      String command = args.remove(0);
      return switch (command) {
        case "add" -> add(args);
        case "list" -> list(args);
        case "drop" -> drop(args);
        case "suggest" -> suggest(args);
        default -> throw new Usage("unknown columns command " + command);
      };
    } catch (Usage e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (Exception e) {
      err.println("error: cannot reach the catalog service at " + catalog + ": " + e);
      return 1;
    }
  }

  private int add(List<String> args) throws Exception {
    if (args.size() < 2) {
      throw new Usage("columns add needs NAME and TYPE");
    }
    ObjectNode body = JsonUtil.mapper().createObjectNode();
    body.put("name", args.remove(0));
    body.put("type", args.remove(0));
    while (!args.isEmpty()) {
      String option = args.remove(0);
      switch (option) {
        case "--path" -> body.put("path", value(args, option));
        case "--streams" -> {
          ArrayNode streams = body.putArray("streams");
          for (String s : value(args, option).split(",")) {
            if (!s.isBlank()) {
              streams.add(s.trim());
            }
          }
        }
        case "--on-mismatch" -> body.put("on_mismatch", value(args, option));
        default -> throw new Usage("unknown option for columns add: " + option);
      }
    }
    if (!body.has("path")) {
      throw new Usage("columns add needs --path JSON.PATH");
    }
    JsonNode answer = call("POST", "", body.toString());
    if (answer == null) {
      return 1;
    }
    if (!json) {
      JsonNode c = answer.get("column");
      out.println(
          answer.get("outcome").asText()
              + ": "
              + c.get("name").asText()
              + " "
              + c.get("type").asText()
              + " from "
              + c.get("path").asText()
              + streams(c)
              + ", on mismatch "
              + c.get("on_mismatch").asText()
              + " (nodes follow within seconds)");
    }
    return 0;
  }

  private int list(List<String> args) throws Exception {
    boolean all = args.remove("--all");
    if (!args.isEmpty()) {
      throw new Usage("unknown option for columns list: " + args.get(0));
    }
    JsonNode answer = call("GET", all ? "?all=true" : "", null);
    if (answer == null) {
      return 1;
    }
    if (!json) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"NAME", "TYPE", "PATH", "STREAMS", "ON_MISMATCH", all ? "STATE" : ""});
      for (JsonNode c : answer.get("columns")) {
        rows.add(
            new String[] {
              c.get("name").asText(),
              c.get("type").asText(),
              c.get("path").asText(),
              c.get("streams").isEmpty() ? "*" : join(c.get("streams")),
              c.get("on_mismatch").asText(),
              all ? (c.get("dropped").asBoolean() ? "dropped" : "active") : ""
            });
      }
      print(rows);
      for (JsonNode p : answer.get("problems")) {
        err.println("warning: " + p.asText());
      }
    }
    return 0;
  }

  private int drop(List<String> args) throws Exception {
    if (args.size() != 1) {
      throw new Usage("columns drop needs exactly one NAME");
    }
    JsonNode answer =
        call("DELETE", "/" + URLEncoder.encode(args.get(0), StandardCharsets.UTF_8), null);
    if (answer == null) {
      return 1;
    }
    if (!json) {
      out.println("dropped: " + args.get(0) + " (its values stay; new rows leave it null)");
    }
    return 0;
  }

  private int suggest(List<String> args) throws Exception {
    StringBuilder query = new StringBuilder();
    while (!args.isEmpty()) {
      String option = args.remove(0);
      switch (option) {
        case "--stream" ->
            query
                .append(query.isEmpty() ? "?" : "&")
                .append("stream=")
                .append(URLEncoder.encode(value(args, option), StandardCharsets.UTF_8));
        case "--sample" ->
            query
                .append(query.isEmpty() ? "?" : "&")
                .append("sample=")
                .append(URLEncoder.encode(value(args, option), StandardCharsets.UTF_8));
        default -> throw new Usage("unknown option for columns suggest: " + option);
      }
    }
    JsonNode answer = call("GET", "/suggest" + query, null);
    if (answer == null) {
      return 1;
    }
    if (!json) {
      out.println("sampled " + answer.get("sampled_events").asLong() + " recent events");
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"PATH", "TYPE", "FILL", "EXAMPLE", "TO MAP IT"});
      for (JsonNode s : answer.get("suggestions")) {
        String command =
            s.has("mapped_as")
                ? "(mapped as " + s.get("mapped_as").asText() + ")"
                : "scripts/floe columns add "
                    + s.get("column").asText()
                    + " '"
                    + s.get("type").asText()
                    + "' --path "
                    + s.get("path").asText();
        rows.add(
            new String[] {
              s.get("path").asText(),
              s.get("type").asText(),
              String.format(Locale.ROOT, "%.1f%%", 100 * s.get("fill_rate").asDouble()),
              s.path("example").asText(""),
              command
            });
      }
      print(rows);
    }
    return 0;
  }

  /** The answer's JSON, or null after printing the service's refusal. */
  private JsonNode call(String method, String suffix, String body) throws Exception {
    return callApi(method, "/floe/v1/columns" + suffix, body);
  }

  /** A call to Floe's API at {@code path} on the catalog service: its JSON, or null (refused). */
  JsonNode callApi(String method, String path, String body) throws Exception {
    ApiCall.Answer answer =
        ApiCall.send(http, catalog, method, path, body, token, Duration.ofSeconds(120));
    if (!answer.ok()) {
      err.println("error: " + answer.status() + " " + answer.detail());
      return null;
    }
    if (json) {
      out.println(answer.body());
    }
    return answer.json();
  }

  private static String streams(JsonNode c) {
    return c.get("streams").isEmpty() ? "" : " for " + join(c.get("streams"));
  }

  private static String join(JsonNode array) {
    List<String> parts = new ArrayList<>();
    array.forEach(n -> parts.add(n.asText()));
    return String.join(",", parts);
  }

  boolean json() {
    return json;
  }

  PrintStream out() {
    return out;
  }

  PrintStream err() {
    return err;
  }

  void print(List<String[]> rows) {
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        line.append(r[i]);
        if (i < r.length - 1) {
          line.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }

  static String value(List<String> args, String option) {
    if (args.isEmpty()) {
      throw new Usage(option + " needs a value");
    }
    return args.remove(0);
  }
}
