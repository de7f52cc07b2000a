package io.floe.node.config;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.common.auth.Auth;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.http.BodyRate;
import io.floe.common.tls.ServerTls;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.commit.CommitConfig;
import io.floe.node.flush.FlushConfig;
import java.time.Duration;
import java.util.Set;

/**
 * Everything a node needs, built once at start from {@link Settings} and validated there. Setting
 * names and defaults are the constants of this record and of {@link BufferConfig}, {@link
 * FlushConfig}, {@link CommitConfig}, {@link BodyRate} and {@link Quotas}; docs/configuration.md
 * lists them with their meaning.
 */
public record NodeConfig(
    int partitionId,
    String httpHost,
    int httpPort,
    int eventLoops,
    Duration idleTimeout,
    int maxConnections,
    Auth auth,
    boolean metricsOpen,
    int maxConcurrentPerToken,
    ServerTls tls,
    IngestLimits limits,
    long inflightMaxBytes,
    Duration shutdownGrace,
    BufferConfig buffer,
    FlushConfig flush,
    CommitConfig commit) {

  public static final String PARTITION_ID = "node.partition-id";
  public static final int PARTITION_ID_DEFAULT = 0;
  public static final String SHUTDOWN_GRACE = "node.shutdown-grace-seconds";
  public static final Duration SHUTDOWN_GRACE_DEFAULT = Duration.ofSeconds(30);
  public static final String HTTP_HOST = "http.host";
  public static final String HTTP_HOST_DEFAULT = "0.0.0.0";
  public static final String HTTP_PORT = "http.port";
  public static final int HTTP_PORT_DEFAULT = 8081;

  /** Default: the number of cores. */
  public static final String HTTP_EVENT_LOOPS = "http.event-loops";

  /**
   * One token for everything a node serves (ingest, read, admin); auth.tokens-file for scoped
   * tokens.
   */
  public static final String HTTP_AUTH_TOKEN = "http.auth-token";

  /** Lets /metrics be scraped without a token (a local agent on a private network). */
  public static final String METRICS_OPEN = "auth.metrics-open";

  /**
   * http.tls.cert-file, http.tls.key-file, http.tls.reload-seconds: see {@link ServerTls}; none is
   * plaintext.
   */
  public static final String HTTP_TLS_PREFIX = "http.";

  public static final String HTTP_IDLE_TIMEOUT = "http.idle-timeout-seconds";
  public static final Duration HTTP_IDLE_TIMEOUT_DEFAULT = Duration.ofSeconds(60);
  public static final String HTTP_MAX_CONNECTIONS = "http.max-connections";
  public static final int HTTP_MAX_CONNECTIONS_DEFAULT = 10_000;
  public static final String BODY_TIMEOUT = "ingest.body-timeout-seconds";
  public static final Duration BODY_TIMEOUT_DEFAULT = Duration.ofSeconds(30);
  public static final String MAX_BODY_BYTES = "ingest.max-body-bytes";
  public static final long MAX_BODY_BYTES_DEFAULT = 16L << 20;
  public static final String MAX_DECODED_BYTES = "ingest.max-decoded-bytes";
  public static final long MAX_DECODED_BYTES_DEFAULT = 64L << 20;
  public static final String MAX_EVENT_BYTES = "ingest.max-event-bytes";
  public static final long MAX_EVENT_BYTES_DEFAULT = 1L << 20;
  public static final String KEY_FIELD = "ingest.key-field";
  public static final String KEY_FIELD_DEFAULT = "key";
  public static final String TIME_FIELD = "ingest.time-field";
  public static final String TIME_FIELD_DEFAULT = "event_time";

  /** A dead letter keeps at most this many of its record's bytes (and says it was cut). */
  public static final String DEAD_LETTER_MAX_RAW_BYTES = "dead-letter.max-raw-bytes";

  public static final long DEAD_LETTER_MAX_RAW_BYTES_DEFAULT = 64L << 10;

  /**
   * The most raw bytes of dead letters a list answers, or a replay holds at once (it goes on in
   * chunks of this size); at least {@link #DEAD_LETTER_MAX_RAW_BYTES}, so that one always fits.
   */
  public static final String DEAD_LETTER_READ_BUDGET_BYTES = "dead-letter.read-budget-bytes";

  public static final long DEAD_LETTER_READ_BUDGET_BYTES_DEFAULT = 8L << 20;
  public static final String INFLIGHT_MAX_BYTES = "ingest.inflight-max-bytes";
  public static final long INFLIGHT_MAX_BYTES_DEFAULT = 256L << 20;

  /**
   * Builds and validates the configuration; throws {@link ConfigException} naming a bad setting.
   */
  public static NodeConfig load(Settings s) {
    int partitionId = s.intValue(PARTITION_ID, PARTITION_ID_DEFAULT, 0, 1_000_000);
    IngestLimits limits =
        new IngestLimits(
            s.bytes(MAX_BODY_BYTES, MAX_BODY_BYTES_DEFAULT, 1024, 1L << 30),
            s.bytes(MAX_DECODED_BYTES, MAX_DECODED_BYTES_DEFAULT, 1024, 2L << 30),
            s.bytes(MAX_EVENT_BYTES, MAX_EVENT_BYTES_DEFAULT, 64, 256L << 20),
            s.string(
                KEY_FIELD, KEY_FIELD_DEFAULT, NodeConfig::validFieldName, "a non-empty field name"),
            s.string(
                TIME_FIELD,
                TIME_FIELD_DEFAULT,
                NodeConfig::validFieldName,
                "a non-empty field name"),
            s.seconds(
                BODY_TIMEOUT, BODY_TIMEOUT_DEFAULT, Duration.ofMillis(100), Duration.ofHours(1)),
            BodyRate.load(s),
            (int)
                s.bytes(DEAD_LETTER_MAX_RAW_BYTES, DEAD_LETTER_MAX_RAW_BYTES_DEFAULT, 0, 16L << 20),
            s.bytes(
                DEAD_LETTER_READ_BUDGET_BYTES, DEAD_LETTER_READ_BUDGET_BYTES_DEFAULT, 1, 1L << 30));
    if (limits.deadLetterReadBudgetBytes() < limits.deadLetterMaxRawBytes()) {
      throw new ConfigException(
          Settings.envName(DEAD_LETTER_READ_BUDGET_BYTES)
              + " ("
              + DEAD_LETTER_READ_BUDGET_BYTES
              + ") must be at least "
              + DEAD_LETTER_MAX_RAW_BYTES
              + " ("
              + limits.deadLetterMaxRawBytes()
              + "): one dead letter must fit");
    }
    if (limits.maxEventBytes() > limits.maxDecodedBytes()) {
      throw new ConfigException(
          Settings.envName(MAX_EVENT_BYTES)
              + " ("
              + MAX_EVENT_BYTES
              + ") must not exceed "
              + MAX_DECODED_BYTES
              + " ("
              + limits.maxDecodedBytes()
              + ")");
    }
    long inflight = s.bytes(INFLIGHT_MAX_BYTES, INFLIGHT_MAX_BYTES_DEFAULT, 1L << 20, 64L << 30);
    if (inflight < limits.maxBodyBytes()) {
      throw new ConfigException(
          Settings.envName(INFLIGHT_MAX_BYTES)
              + " ("
              + INFLIGHT_MAX_BYTES
              + ") must be at least "
              + MAX_BODY_BYTES
              + " ("
              + limits.maxBodyBytes()
              + ") or no maximal request could ever be accepted");
    }
    return new NodeConfig(
        partitionId,
        s.string(HTTP_HOST, HTTP_HOST_DEFAULT),
        s.intValue(HTTP_PORT, HTTP_PORT_DEFAULT, 0, 65_535),
        s.intValue(HTTP_EVENT_LOOPS, Runtime.getRuntime().availableProcessors(), 1, 1024),
        s.seconds(
            HTTP_IDLE_TIMEOUT,
            HTTP_IDLE_TIMEOUT_DEFAULT,
            Duration.ofSeconds(1),
            Duration.ofDays(1)),
        s.intValue(HTTP_MAX_CONNECTIONS, HTTP_MAX_CONNECTIONS_DEFAULT, 1, 1_000_000),
        Auth.load(s, HTTP_AUTH_TOKEN, Set.of(Scope.INGEST, Scope.READ, Scope.ADMIN, Scope.CLUSTER)),
        s.bool(METRICS_OPEN, false),
        Quotas.maxConcurrentRequests(s),
        ServerTls.load(s, HTTP_TLS_PREFIX),
        limits,
        inflight,
        s.seconds(SHUTDOWN_GRACE, SHUTDOWN_GRACE_DEFAULT, Duration.ZERO, Duration.ofHours(1)),
        BufferConfig.load(s, partitionId),
        FlushConfig.load(s, CatalogConnector.properties(s)),
        CommitConfig.load(s));
  }

  private static boolean validFieldName(String name) {
    return !name.isBlank() && name.length() <= 256;
  }

  /**
   * Size and time limits and default field names for request decoding.
   *
   * @param bodyTimeout longest time a request may take to send its body (slow clients hold budget)
   * @param bodyRate the slowest a body may come ({@link BodyRate}: ingest.min-body-*)
   * @param deadLetterMaxRawBytes a dead letter's raw bytes beyond this are cut (and flagged)
   * @param deadLetterReadBudgetBytes the most raw bytes of dead letters a list or a replay holds
   */
  public record IngestLimits(
      long maxBodyBytes,
      long maxDecodedBytes,
      long maxEventBytes,
      String keyField,
      String timeField,
      Duration bodyTimeout,
      BodyRate bodyRate,
      int deadLetterMaxRawBytes,
      long deadLetterReadBudgetBytes) {}
}
