package io.floe.node.flush;

import io.floe.common.config.Settings;
import io.floe.catalog.table.TableSettings;
import java.time.Duration;
import java.util.Map;

/**
 * When and how a node flushes its buffer to the table.
 *
 * @param enabled false runs the node as a buffer only, with no catalog (tests of ingestion alone)
 * @param catalogProperties Iceberg catalog properties ({@code catalog.*})
 * @param table the table's definition
 * @param maxAge flush when the oldest unflushed event is this old ({@code flush.max-age-seconds})
 * @param triggerBytes flush when this many bytes are buffered ({@code flush.trigger-bytes}; default
 *     the table's target file size)
 * @param maxBytesPerFlush most buffered bytes one flush takes ({@code flush.max-bytes})
 * @param memoryBudget bytes of Parquet writers that may be open at once; with the measured size of
 *     each writer it sets the upload concurrency ({@code flush.memory-budget})
 * @param maxConcurrency upper bound of parallel file writers/uploads ({@code flush.max-concurrency})
 * @param retryMax longest backoff between failed flush attempts ({@code flush.retry-max-seconds})
 * @param startupTimeout how long start-up waits for the catalog ({@code catalog.startup-timeout-seconds})
 * @param faultPoint test-only: a point where the flusher stops dead ({@code flush.fault-point})
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
    FaultPoint faultPoint) {

  public static FlushConfig load(Settings s, Map<String, String> catalogProperties) {
    TableSettings table = TableSettings.load(s);
    int cores = Runtime.getRuntime().availableProcessors();
    return new FlushConfig(
        s.bool("flush.enabled", true),
        catalogProperties,
        table,
        Duration.ofMillis(Math.round(1000 * Double.parseDouble(
            s.string("flush.max-age-seconds", "30", FlushConfig::positiveNumber, "a positive number of seconds")))),
        s.bytes("flush.trigger-bytes", table.targetFileBytes(), 1L << 10, 64L << 30),
        s.bytes("flush.max-bytes", 512L << 20, 1L << 10, 64L << 30),
        s.bytes("flush.memory-budget", 256L << 20, 8L << 20, 64L << 30),
        s.intValue("flush.max-concurrency", Math.max(2, cores * 2), 1, 256),
        Duration.ofSeconds(s.longValue("flush.retry-max-seconds", 30, 1, 3600)),
        Duration.ofSeconds(s.longValue("catalog.startup-timeout-seconds", 120, 1, 86_400)),
        s.enumValue("flush.fault-point", FaultPoint.NONE));
  }

  private static boolean positiveNumber(String v) {
    try {
      return Double.parseDouble(v) > 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
