package io.floe.router;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The router's settings, from environment variables (validated at start; a bad value stops the
 * router with one line naming it). The router stands alone: it shares no code with the nodes.
 *
 * @param host listen address ({@code FLOE_ROUTER_HOST}, default 0.0.0.0)
 * @param port listen port ({@code FLOE_ROUTER_PORT}, default 8080)
 * @param nodes node addresses {@code host:port}, comma separated ({@code FLOE_ROUTER_NODES})
 * @param nodesFile file with one {@code host:port} per line, re-read when it changes
 *     ({@code FLOE_ROUTER_NODES_FILE}); wins over {@code nodes}
 * @param healthInterval how often each node's /health/ready is checked ({@code FLOE_ROUTER_HEALTH_INTERVAL_MS})
 * @param unhealthyAfter consecutive failed checks that take a node out ({@code FLOE_ROUTER_UNHEALTHY_AFTER})
 * @param connectionsPerNode keep-alive connections per node ({@code FLOE_ROUTER_CONNECTIONS_PER_NODE})
 * @param requestTimeout longest wait for a node's answer ({@code FLOE_ROUTER_REQUEST_TIMEOUT_MS})
 * @param eventLoops Vert.x event loops ({@code FLOE_ROUTER_EVENT_LOOPS}, default cores)
 */
public record RouterConfig(
    String host,
    int port,
    List<NodeAddress> nodes,
    Path nodesFile,
    Duration healthInterval,
    int unhealthyAfter,
    int connectionsPerNode,
    Duration requestTimeout,
    int eventLoops) {

  /** A node's address. */
  public record NodeAddress(String host, int port) {
    static NodeAddress parse(String text, String setting) {
      String t = text.trim();
      int colon = t.lastIndexOf(':');
      if (colon <= 0 || colon == t.length() - 1) {
        throw new IllegalArgumentException(setting + ": '" + t + "' is not host:port");
      }
      int port;
      try {
        port = Integer.parseInt(t.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(setting + ": '" + t + "' is not host:port");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException(setting + ": port of '" + t + "' is not in 1..65535");
      }
      return new NodeAddress(t.substring(0, colon), port);
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /** Parses a node list: comma or newline separated, {@code #} starts a comment. */
  static List<NodeAddress> parseNodes(String text, String setting) {
    return text.lines()
        .map(l -> l.replaceAll("#.*", ""))
        .flatMap(l -> java.util.Arrays.stream(l.split(",")))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(s -> NodeAddress.parse(s, setting))
        .distinct()
        .toList();
  }

  public static RouterConfig load(Map<String, String> env) {
    String nodesText = env.getOrDefault("FLOE_ROUTER_NODES", "");
    String file = env.get("FLOE_ROUTER_NODES_FILE");
    List<NodeAddress> nodes = parseNodes(nodesText, "FLOE_ROUTER_NODES");
    if (nodes.isEmpty() && (file == null || file.isBlank())) {
      throw new IllegalArgumentException(
          "FLOE_ROUTER_NODES must list the nodes (host:port,host:port) or FLOE_ROUTER_NODES_FILE name a file of them");
    }
    return new RouterConfig(
        env.getOrDefault("FLOE_ROUTER_HOST", "0.0.0.0"),
        intValue(env, "FLOE_ROUTER_PORT", 8080, 0, 65_535),
        nodes,
        file == null || file.isBlank() ? null : Path.of(file),
        Duration.ofMillis(intValue(env, "FLOE_ROUTER_HEALTH_INTERVAL_MS", 1000, 50, 600_000)),
        intValue(env, "FLOE_ROUTER_UNHEALTHY_AFTER", 2, 1, 100),
        intValue(env, "FLOE_ROUTER_CONNECTIONS_PER_NODE", 64, 1, 10_000),
        Duration.ofMillis(intValue(env, "FLOE_ROUTER_REQUEST_TIMEOUT_MS", 60_000, 100, 3_600_000)),
        intValue(env, "FLOE_ROUTER_EVENT_LOOPS", Runtime.getRuntime().availableProcessors(), 1, 1024));
  }

  private static int intValue(Map<String, String> env, String name, int def, int min, int max) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      int parsed = Integer.parseInt(v.trim());
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be an integer in " + min + ".." + max + ", got '" + v + "'");
  }
}
