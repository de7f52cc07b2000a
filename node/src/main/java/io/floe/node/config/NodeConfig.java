package io.floe.node.config;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.Durability;
import io.floe.node.flush.FlushConfig;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a node needs, built once at start from {@link Settings} and validated there. Each
 * setting's name, default and meaning is listed in README.md ("Configuration").
 */
public record NodeConfig(
    int partitionId,
    String httpHost,
    int httpPort,
    int eventLoops,
    String authToken,
    IngestLimits limits,
    long inflightMaxBytes,
    Duration shutdownGrace,
    BufferConfig buffer,
    FlushConfig flush) {

  public static final int HTTP_PORT_DEFAULT = 8081;

  /** Builds and validates the configuration; throws {@link ConfigException} naming a bad setting. */
  public static NodeConfig load(Settings s) {
    int partitionId = s.intValue("node.partition-id", 0, 0, 1_000_000);
    String host = s.string("http.host", "0.0.0.0");
    int port = s.intValue("http.port", HTTP_PORT_DEFAULT, 0, 65_535);
    int cores = Runtime.getRuntime().availableProcessors();
    int eventLoops = s.intValue("http.event-loops", cores, 1, 1024);
    String token = s.string("http.auth-token", null);

    IngestLimits limits =
        new IngestLimits(
            s.bytes("ingest.max-body-bytes", 16L << 20, 1024, 1L << 30),
            s.bytes("ingest.max-decoded-bytes", 64L << 20, 1024, 2L << 30),
            s.bytes("ingest.max-event-bytes", 1L << 20, 64, 256L << 20),
            s.string("ingest.key-field", "key", NodeConfig::validFieldName, "a non-empty field name"),
            s.string(
                "ingest.time-field", "event_time", NodeConfig::validFieldName, "a non-empty field name"));
    if (limits.maxEventBytes() > limits.maxDecodedBytes()) {
      throw new ConfigException(
          Settings.envName("ingest.max-event-bytes")
              + " (ingest.max-event-bytes) must not exceed ingest.max-decoded-bytes ("
              + limits.maxDecodedBytes()
              + ")");
    }
    long inflight = s.bytes("ingest.inflight-max-bytes", 256L << 20, 1L << 20, 64L << 30);
    if (inflight < limits.maxBodyBytes()) {
      throw new ConfigException(
          Settings.envName("ingest.inflight-max-bytes")
              + " (ingest.inflight-max-bytes) must be at least ingest.max-body-bytes ("
              + limits.maxBodyBytes()
              + ") or no maximal request could ever be accepted");
    }
    Duration grace = Duration.ofSeconds(s.longValue("node.shutdown-grace-seconds", 30, 0, 3600));

    Path dir = s.path("buffer.dir", "data/node-" + partitionId);
    int memtables = s.intValue("rocksdb.max-write-buffer-number", 4, 2, 64);
    int merged = s.intValue("rocksdb.min-write-buffer-number-to-merge", 1, 1, 63);
    if (merged >= memtables) {
      throw new ConfigException(
          Settings.envName("rocksdb.min-write-buffer-number-to-merge")
              + " (rocksdb.min-write-buffer-number-to-merge) must be below rocksdb.max-write-buffer-number ("
              + memtables
              + ") or writes would stall before a flush starts");
    }
    BufferConfig buffer =
        new BufferConfig(
            dir,
            s.path("buffer.wal-dir", null),
            s.enumValue("buffer.durability", Durability.SYNC),
            s.bytes("buffer.max-bytes", 8L << 30, 1L << 20, 1L << 50),
            s.bytes("buffer.max-group-bytes", 8L << 20, 64L << 10, 1L << 30),
            s.bytes("rocksdb.write-buffer-size", 64L << 20, 1L << 20, 4L << 30),
            memtables,
            merged,
            s.intValue("rocksdb.max-background-jobs", Math.max(2, cores), 1, 256),
            s.enumValue("rocksdb.compression", BufferConfig.Compression.LZ4));
    FlushConfig flush = FlushConfig.load(s, CatalogConnector.properties(s));
    return new NodeConfig(partitionId, host, port, eventLoops, token, limits, inflight, grace, buffer, flush);
  }

  private static boolean validFieldName(String name) {
    return !name.isBlank() && name.length() <= 256;
  }

  /** Size limits and default field names for request decoding. */
  public record IngestLimits(
      long maxBodyBytes,
      long maxDecodedBytes,
      long maxEventBytes,
      String keyField,
      String timeField) {}
}
