package io.floe.router;

import io.floe.common.auth.Auth;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.http.BodyRate;
import io.floe.common.tls.ClientTrust;
import io.floe.common.tls.ServerTls;
import io.vertx.core.http.HttpClientOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The router's settings, read like every Floe component's ({@link Settings}: {@code FLOE_ROUTER_*}
 * variables or {@code router.*} in the file named by {@code FLOE_CONFIG_FILE}), validated at start;
 * a bad value stops the router with one line naming it. Names and defaults are the constants below.
 *
 * @param host listen address
 * @param port listen port
 * @param nodes node addresses {@code host:port}
 * @param nodesFile file with one {@code host:port} per line, re-read when it changes; wins over
 *     {@code nodes}
 * @param healthInterval how often each node's /health/ready is checked
 * @param unhealthyAfter consecutive failed checks that take a node out
 * @param healthyAfter consecutive passed checks that bring a node that was taken out back
 * @param connectionsPerNode keep-alive connections per node
 * @param requestTimeout longest wait for a node's answer
 * @param poolWait longest wait for a free pooled connection to a node before answering 503
 * @param eventLoops Vert.x event loops
 * @param maxConcurrentPerToken requests one producer token may have in flight ({@link Quotas})
 * @param bodyRate the slowest a request body may come ({@link BodyRate})
 * @param metricsHost where the private metrics listener listens
 * @param metricsPort the private metrics listener's port, or -1 for none
 * @param catalogUri the catalog service the console reads table health from, or null
 * @param catalogToken the token (read scope) the router reads the catalog service with, or null
 * @param consoleSampleInterval how often the router samples its nodes and the catalog for the
 *     console and {@code /v1/cluster}
 */
public record RouterConfig(
    String host,
    int port,
    List<NodeAddress> nodes,
    Path nodesFile,
    Duration healthInterval,
    int unhealthyAfter,
    int healthyAfter,
    int connectionsPerNode,
    Duration requestTimeout,
    Duration poolWait,
    int eventLoops,
    ServerTls tls,
    ClientTrust nodeTrust,
    Auth auth,
    String nodeToken,
    boolean metricsOpen,
    int maxConcurrentPerToken,
    BodyRate bodyRate,
    String metricsHost,
    int metricsPort,
    String catalogUri,
    String catalogToken,
    Duration consoleSampleInterval) {

  public static final String HOST = "router.host";
  public static final String HOST_DEFAULT = "0.0.0.0";
  public static final String PORT = "router.port";
  public static final int PORT_DEFAULT = 8080;

  /** Required unless {@link #NODES_FILE} is set. */
  public static final String NODES = "router.nodes";

  public static final String NODES_FILE = "router.nodes-file";
  public static final String HEALTH_INTERVAL = "router.health-interval-seconds";
  public static final Duration HEALTH_INTERVAL_DEFAULT = Duration.ofSeconds(1);
  public static final String UNHEALTHY_AFTER = "router.unhealthy-after";
  public static final int UNHEALTHY_AFTER_DEFAULT = 2;
  public static final String HEALTHY_AFTER = "router.healthy-after";
  public static final int HEALTHY_AFTER_DEFAULT = 3;
  public static final String POOL_WAIT = "router.pool-wait-seconds";
  public static final Duration POOL_WAIT_DEFAULT = Duration.ofSeconds(5);
  public static final String CONNECTIONS_PER_NODE = "router.connections-per-node";
  public static final int CONNECTIONS_PER_NODE_DEFAULT = 64;
  public static final String REQUEST_TIMEOUT = "router.request-timeout-seconds";
  public static final Duration REQUEST_TIMEOUT_DEFAULT = Duration.ofSeconds(60);

  /** Default: the number of cores. */
  public static final String EVENT_LOOPS = "router.event-loops";

  /**
   * router.tls.cert-file, router.tls.key-file, router.tls.reload-seconds: see {@link ServerTls};
   * none is plaintext.
   */
  public static final String TLS_PREFIX = "router.";

  /**
   * PEM certificates the nodes' certificates must chain to; set, the router speaks TLS to the
   * nodes.
   */
  public static final String NODE_TRUST_FILE = "router.node-tls-trust-file";

  public static final String NODE_TRUST_RELOAD = "router.node-tls-trust-reload-seconds";

  /**
   * The router's own token (with the {@code router} scope in the nodes' token file): set, the
   * router forwards authenticated requests with it and names the producer in X-Floe-Principal, so
   * nodes need not know producers' tokens; unset, it forwards the producer's Authorization header
   * as is.
   */
  public static final String NODE_TOKEN = "router.node-token";

  /**
   * One token producers send (ingest to every stream, and read); auth.tokens-file for scoped
   * tokens.
   */
  public static final String AUTH_TOKEN = "router.auth-token";

  /**
   * Lets /metrics be scraped without a token, on the public listener: anyone who reaches it then
   * reads token names and node addresses. {@link #METRICS_PORT} is the private way.
   */
  public static final String METRICS_OPEN = "auth.metrics-open";

  /**
   * Set, the router also listens on this port, plaintext, serving only {@code GET /metrics},
   * without a token: for a scraper on the same host (or a private network, with {@link
   * #METRICS_HOST}). Unset (the default), there is no such listener.
   */
  public static final String METRICS_PORT = "router.metrics-port";

  /**
   * Where the metrics listener listens; loopback, so that only the host's own scraper reaches it.
   */
  public static final String METRICS_HOST = "router.metrics-host";

  public static final String METRICS_HOST_DEFAULT = "127.0.0.1";

  /**
   * The catalog service ({@code http(s)://host:port}) whose {@code /metrics} and column list the
   * console shows as the table's health; unset, the console's table section says so.
   */
  public static final String CATALOG_URI = "router.catalog-uri";

  /** A token with the {@code read} scope on the catalog service, for {@link #CATALOG_URI}. */
  public static final String CATALOG_TOKEN = "router.catalog-token";

  /**
   * How often the router samples each node's {@code /v1/status} and {@code /metrics} (with {@link
   * #NODE_TOKEN}) and the catalog for the console; it keeps the last 15 minutes of samples. 0 turns
   * sampling off ({@code /v1/cluster} then says so).
   */
  public static final String CONSOLE_SAMPLE_INTERVAL = "router.console-sample-seconds";

  public static final Duration CONSOLE_SAMPLE_INTERVAL_DEFAULT = Duration.ofSeconds(5);

  /** A node's address. */
  public record NodeAddress(String host, int port) {
    static NodeAddress parse(String text, String source) {
      String t = text.trim();
      int colon = t.lastIndexOf(':');
      if (colon <= 0 || colon == t.length() - 1) {
        throw new ConfigException(source + ": '" + t + "' is not host:port");
      }
      int port;
      try {
        port = Integer.parseInt(t.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new ConfigException(source + ": '" + t + "' is not host:port");
      }
      if (port < 1 || port > 65_535) {
        throw new ConfigException(source + ": port of '" + t + "' is not in 1..65535");
      }
      return new NodeAddress(t.substring(0, colon), port);
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /**
   * Parses a node list: comma or newline separated, {@code #} starts a comment; {@code source}
   * names it in errors.
   */
  static List<NodeAddress> parseNodes(String text, String source) {
    return text.lines()
        .map(l -> l.replaceAll("#.*", ""))
        .flatMap(l -> Arrays.stream(l.split(",")))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(s -> NodeAddress.parse(s, source))
        .distinct()
        .toList();
  }

  public static RouterConfig load(Settings s) {
    List<NodeAddress> nodes =
        parseNodes(s.string(NODES, ""), Settings.envName(NODES) + " (" + NODES + ")");
    Path file = s.path(NODES_FILE, null);
    if (nodes.isEmpty() && file == null) {
      throw new ConfigException(
          Settings.envName(NODES)
              + " ("
              + NODES
              + ") must list the nodes (host:port,host:port)"
              + " or "
              + Settings.envName(NODES_FILE)
              + " ("
              + NODES_FILE
              + ") name a file of them");
    }
    return new RouterConfig(
        s.string(HOST, HOST_DEFAULT),
        s.intValue(PORT, PORT_DEFAULT, 0, 65_535),
        nodes,
        file,
        s.seconds(
            HEALTH_INTERVAL,
            HEALTH_INTERVAL_DEFAULT,
            Duration.ofMillis(50),
            Duration.ofMinutes(10)),
        s.intValue(UNHEALTHY_AFTER, UNHEALTHY_AFTER_DEFAULT, 1, 100),
        s.intValue(HEALTHY_AFTER, HEALTHY_AFTER_DEFAULT, 1, 100),
        s.intValue(CONNECTIONS_PER_NODE, CONNECTIONS_PER_NODE_DEFAULT, 1, 10_000),
        s.seconds(
            REQUEST_TIMEOUT, REQUEST_TIMEOUT_DEFAULT, Duration.ofMillis(100), Duration.ofHours(1)),
        s.seconds(POOL_WAIT, POOL_WAIT_DEFAULT, Duration.ofMillis(10), Duration.ofMinutes(10)),
        s.intValue(EVENT_LOOPS, Runtime.getRuntime().availableProcessors(), 1, 1024),
        ServerTls.load(s, TLS_PREFIX),
        nodeTrust(s),
        Auth.load(s, AUTH_TOKEN, Set.of(Scope.INGEST, Scope.READ)),
        nodeToken(s),
        s.bool(METRICS_OPEN, false),
        Quotas.maxConcurrentRequests(s),
        BodyRate.load(s),
        s.string(METRICS_HOST, METRICS_HOST_DEFAULT),
        s.isSet(METRICS_PORT) ? s.intValue(METRICS_PORT, 0, 0, 65_535) : -1,
        catalogUri(s),
        s.string(CATALOG_TOKEN, null),
        consoleSampleInterval(s));
  }

  private static Duration consoleSampleInterval(Settings s) {
    Duration d =
        s.seconds(
            CONSOLE_SAMPLE_INTERVAL,
            CONSOLE_SAMPLE_INTERVAL_DEFAULT,
            Duration.ZERO,
            Duration.ofMinutes(1));
    if (!d.isZero() && d.toMillis() < 200) {
      throw new ConfigException(
          Settings.envName(CONSOLE_SAMPLE_INTERVAL)
              + " ("
              + CONSOLE_SAMPLE_INTERVAL
              + ") must be 0 (no sampling) or at least 0.2 seconds");
    }
    return d;
  }

  private static String catalogUri(Settings s) {
    String uri = s.string(CATALOG_URI, null);
    if (uri == null) {
      return null;
    }
    String name = Settings.envName(CATALOG_URI) + " (" + CATALOG_URI + ")";
    URI parsed;
    try {
      parsed = new URI(uri.trim());
    } catch (URISyntaxException e) {
      throw new ConfigException(name + ": '" + uri + "' is not a URI");
    }
    if (parsed.getRawUserInfo() != null) {
      // not echoed: it holds a secret
      throw new ConfigException(
          name + ": must not carry credentials; put the token in " + CATALOG_TOKEN);
    }
    if (!"http".equals(parsed.getScheme()) && !"https".equals(parsed.getScheme())
        || parsed.getHost() == null) {
      throw new ConfigException(name + ": '" + uri + "' must be http(s)://host:port");
    }
    String text = parsed.toString();
    return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
  }

  private static String nodeToken(Settings s) {
    String token = s.string(NODE_TOKEN, null);
    if (token == null && s.isSet(NODE_TOKEN)) {
      throw new ConfigException(NODE_TOKEN + ": the token is empty; set it or leave it out");
    }
    return token;
  }

  private static ClientTrust nodeTrust(Settings s) {
    Path file = s.path(NODE_TRUST_FILE, null);
    return file == null
        ? null
        : ClientTrust.load(
            file,
            Settings.envName(NODE_TRUST_FILE) + " (" + NODE_TRUST_FILE + ")",
            s.seconds(
                NODE_TRUST_RELOAD,
                ServerTls.RELOAD_DEFAULT,
                Duration.ofMillis(100),
                Duration.ofHours(1)));
  }

  /** The client options to reach nodes: TLS with the trust file when one is set. */
  HttpClientOptions nodeClient(HttpClientOptions options) {
    return nodeTrust == null ? options : nodeTrust.apply(options);
  }
}
