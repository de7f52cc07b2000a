package io.floe.catalog.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.util.JsonUtil;

/**
 * {@code scripts/floe streams set|unset|list}: the streams' error policies ({@code reject}, {@code
 * dead_letter}, {@code per_request}) through the catalog service's {@code /floe/v1/streams}.
 */
final class StreamCommands {
  private static final String ROOT = "/floe/v1/streams";
  private final FloeCli cli;

  StreamCommands(FloeCli cli) {
    this.cli = cli;
  }

  int run(List<String> args) throws Exception {
    String command = args.remove(0);
    return switch (command) {
      case "set" -> set(args);
      case "unset" -> unset(args);
      case "list" -> list(args);
      default -> throw new FloeCli.Usage("unknown streams command " + command);
    };
  }

  private int set(List<String> args) throws Exception {
    if (args.isEmpty() || args.get(0).startsWith("--")) {
      throw new FloeCli.Usage("streams set needs a PATTERN");
    }
    String pattern = args.remove(0);
    String onError = null;
    while (!args.isEmpty()) {
      String option = args.remove(0);
      if (!option.equals("--on-error")) {
        throw new FloeCli.Usage("unknown option for streams set: " + option);
      }
      onError = FloeCli.value(args, option);
    }
    if (onError == null) {
      throw new FloeCli.Usage("streams set needs --on-error reject|dead-letter|per-request");
    }
    ObjectNode body = JsonUtil.mapper().createObjectNode();
    body.put("on_error", onError.replace('-', '_'));
    JsonNode answer = cli.callApi("PUT", ROOT + "/" + encode(pattern), body.toString());
    if (answer == null) {
      return 1;
    }
    if (!cli.json()) {
      cli.out()
          .println(
              answer.get("outcome").asText()
                  + ": streams "
                  + answer.get("pattern").asText()
                  + " on error "
                  + answer.get("on_error").asText()
                  + " (nodes follow within seconds)");
    }
    return 0;
  }

  private int unset(List<String> args) throws Exception {
    if (args.size() != 1) {
      throw new FloeCli.Usage("streams unset needs exactly one PATTERN");
    }
    JsonNode answer = cli.callApi("DELETE", ROOT + "/" + encode(args.get(0)), null);
    if (answer == null) {
      return 1;
    }
    if (!cli.json()) {
      cli.out().println("removed: " + args.get(0));
    }
    return 0;
  }

  private int list(List<String> args) throws Exception {
    if (!args.isEmpty()) {
      throw new FloeCli.Usage("unknown option for streams list: " + args.get(0));
    }
    JsonNode answer = cli.callApi("GET", ROOT, null);
    if (answer == null) {
      return 1;
    }
    if (!cli.json()) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"PATTERN", "ON_ERROR"});
      for (JsonNode p : answer.get("streams")) {
        rows.add(new String[] {p.get("pattern").asText(), p.get("on_error").asText()});
      }
      rows.add(new String[] {"(others)", answer.get("default").asText()});
      cli.print(rows);
      for (JsonNode p : answer.get("problems")) {
        cli.err().println("warning: " + p.asText());
      }
    }
    return 0;
  }

  private static String encode(String pattern) {
    return URLEncoder.encode(pattern, StandardCharsets.UTF_8);
  }
}
