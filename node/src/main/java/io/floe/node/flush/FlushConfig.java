package io.floe.node.flush;

import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import java.time.Duration;
import java.util.Map;

/**
 * When and how a node flushes its buffer to the table. Names and defaults are the constants below.
 *
 * @param enabled false runs the node as a buffer only, with no catalog (tests of ingestion alone)
 * @param catalogProperties Iceberg catalog properties ({@code catalog.*})
 * @param table the table's definition
 * @param maxAge flush when the oldest unflushed event is this old
 * @param triggerBytes flush when this many bytes are buffered (default: the table's target file
 *     size)
 * @param maxBytesPerFlush most buffered bytes one flush takes
 * @param memoryBudget bytes of Parquet writers that may be open at once; with the measured size of
 *     each writer it sets the upload concurrency
 * @param maxConcurrency upper bound of parallel file writers/uploads
 * @param retryMax longest backoff between failed flush attempts
 * @param startupTimeout how long start-up waits for the catalog
 * @param claimCheck how often an idle flusher checks that the partition is still its own, so that a
 *     node whose partition another process claimed stops acknowledging within this long
 * @param columnsRefresh how often the node re-reads the table's typed columns (a mapping added
 *     takes effect for ingestion within this long plus a catalog round trip)
 */
public record FlushConfig(
    boolean enabled,
    Map<String, String> catalogProperties,
    TableSettings table,
    Duration maxAge,
    long triggerBytes,
    long maxBytesPerFlush,
    long memoryBudget,
    int maxConcurrency,
    Duration retryMax,
    Duration startupTimeout,
    Duration claimCheck,
    Duration columnsRefresh) {

  public static final String ENABLED = "flush.enabled";
  public static final boolean ENABLED_DEFAULT = true;
  public static final String MAX_AGE = "flush.max-age-seconds";
  public static final Duration MAX_AGE_DEFAULT = Duration.ofSeconds(30);

  /** Default: the table's target file size. */
  public static final String TRIGGER_BYTES = "flush.trigger-bytes";

  public static final String MAX_BYTES = "flush.max-bytes";
  public static final long MAX_BYTES_DEFAULT = 512L << 20;
  public static final String MEMORY_BUDGET = "flush.memory-budget";
  public static final long MEMORY_BUDGET_DEFAULT = 256L << 20;

  /** Default: twice the number of cores, at least 2. */
  public static final String MAX_CONCURRENCY = "flush.max-concurrency";

  public static final String RETRY_MAX = "flush.retry-max-seconds";
  public static final Duration RETRY_MAX_DEFAULT = Duration.ofSeconds(30);
  public static final String STARTUP_TIMEOUT = "catalog.startup-timeout-seconds";
  public static final Duration STARTUP_TIMEOUT_DEFAULT = Duration.ofSeconds(120);
  public static final String CLAIM_CHECK = "flush.claim-check-seconds";
  public static final Duration CLAIM_CHECK_DEFAULT = Duration.ofSeconds(5);
  public static final String COLUMNS_REFRESH = "columns.refresh-seconds";
  public static final Duration COLUMNS_REFRESH_DEFAULT = Duration.ofSeconds(5);

  public static FlushConfig load(Settings s, Map<String, String> catalogProperties) {
    TableSettings table = TableSettings.load(s);
    int cores = Runtime.getRuntime().availableProcessors();
    return new FlushConfig(
        s.bool(ENABLED, ENABLED_DEFAULT),
        catalogProperties,
        table,
        s.seconds(MAX_AGE, MAX_AGE_DEFAULT, Duration.ofMillis(1), Duration.ofDays(1)),
        s.bytes(TRIGGER_BYTES, table.targetFileBytes(), 1L << 10, 64L << 30),
        s.bytes(MAX_BYTES, MAX_BYTES_DEFAULT, 1L << 10, 64L << 30),
        s.bytes(MEMORY_BUDGET, MEMORY_BUDGET_DEFAULT, 8L << 20, 64L << 30),
        s.intValue(MAX_CONCURRENCY, Math.max(2, cores * 2), 1, 256),
        s.seconds(RETRY_MAX, RETRY_MAX_DEFAULT, Duration.ofSeconds(1), Duration.ofHours(1)),
        s.seconds(
            STARTUP_TIMEOUT, STARTUP_TIMEOUT_DEFAULT, Duration.ofSeconds(1), Duration.ofDays(1)),
        s.seconds(CLAIM_CHECK, CLAIM_CHECK_DEFAULT, Duration.ofMillis(100), Duration.ofHours(1)),
        s.seconds(
            COLUMNS_REFRESH, COLUMNS_REFRESH_DEFAULT, Duration.ofMillis(100), Duration.ofHours(1)));
  }
}
