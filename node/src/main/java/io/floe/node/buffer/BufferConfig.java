package io.floe.node.buffer;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the RocksDB partition buffer. Names and defaults are the constants below; {@link
 * #load} is the only place they are applied.
 *
 * @param dir RocksDB data directory (one per node)
 * @param walDir WAL directory, or null to keep the WAL inside {@code dir}
 * @param durability when a write counts as durable
 * @param maxBytes buffer budget: bytes of unflushed batches beyond which writes are refused
 * @param maxGroupBytes upper bound of one group commit (one WriteBatch, one fsync)
 * @param writeBufferSize RocksDB memtable size
 * @param maxWriteBufferNumber RocksDB memtables kept before writes stall
 * @param minWriteBufferNumberToMerge immutable memtables flushed together: batches committed and
 *     deleted while still in one of them never reach an SST file
 * @param maxBackgroundJobs RocksDB flush and compaction threads
 * @param compression block compression of SST files
 * @param idempotencyMaxKeys idempotency keys remembered at most (the oldest are forgotten first)
 * @param idempotencyRetention how long an idempotency key is remembered
 */
public record BufferConfig(
    Path dir,
    Path walDir,
    Durability durability,
    long maxBytes,
    long maxGroupBytes,
    long writeBufferSize,
    int maxWriteBufferNumber,
    int minWriteBufferNumberToMerge,
    int maxBackgroundJobs,
    Compression compression,
    int idempotencyMaxKeys,
    Duration idempotencyRetention) {

  public static final String DIR = "buffer.dir";

  /** Default {@code data/node-<partition id>}. */
  public static final String DIR_DEFAULT_PREFIX = "data/node-";

  public static final String WAL_DIR = "buffer.wal-dir";
  public static final String DURABILITY = "buffer.durability";
  public static final Durability DURABILITY_DEFAULT = Durability.SYNC;
  public static final String MAX_BYTES = "buffer.max-bytes";
  public static final long MAX_BYTES_DEFAULT = 8L << 30;
  public static final String MAX_GROUP_BYTES = "buffer.max-group-bytes";
  public static final long MAX_GROUP_BYTES_DEFAULT = 8L << 20;
  public static final String WRITE_BUFFER_SIZE = "rocksdb.write-buffer-size";
  public static final long WRITE_BUFFER_SIZE_DEFAULT = 64L << 20;
  public static final String MAX_WRITE_BUFFER_NUMBER = "rocksdb.max-write-buffer-number";
  public static final int MAX_WRITE_BUFFER_NUMBER_DEFAULT = 4;
  public static final String MIN_WRITE_BUFFER_NUMBER_TO_MERGE =
      "rocksdb.min-write-buffer-number-to-merge";
  public static final int MIN_WRITE_BUFFER_NUMBER_TO_MERGE_DEFAULT = 1;

  /** Default: the number of cores, at least 2. */
  public static final String MAX_BACKGROUND_JOBS = "rocksdb.max-background-jobs";

  public static final String COMPRESSION = "rocksdb.compression";

  public static final Compression COMPRESSION_DEFAULT = Compression.LZ4;
  public static final String IDEMPOTENCY_MAX_KEYS = "idempotency.max-keys";
  public static final int IDEMPOTENCY_MAX_KEYS_DEFAULT = 100_000;
  public static final String IDEMPOTENCY_RETENTION = "idempotency.retention-seconds";
  public static final Duration IDEMPOTENCY_RETENTION_DEFAULT = Duration.ofHours(24);

  /** Bytes the memtables may hold: beyond it, flushed batches are reclaimed from SST files. */
  public long memtableBytes() {
    return writeBufferSize * maxWriteBufferNumber;
  }

  /** SST block compression choices. */
  public enum Compression {
    NONE,
    LZ4,
    ZSTD,
    SNAPPY
  }

  /** Builds and validates the buffer settings of partition {@code partitionId}. */
  public static BufferConfig load(Settings s, int partitionId) {
    int memtables = s.intValue(MAX_WRITE_BUFFER_NUMBER, MAX_WRITE_BUFFER_NUMBER_DEFAULT, 2, 64);
    int merged =
        s.intValue(
            MIN_WRITE_BUFFER_NUMBER_TO_MERGE, MIN_WRITE_BUFFER_NUMBER_TO_MERGE_DEFAULT, 1, 63);
    if (merged >= memtables) {
      throw new ConfigException(
          Settings.envName(MIN_WRITE_BUFFER_NUMBER_TO_MERGE)
              + " ("
              + MIN_WRITE_BUFFER_NUMBER_TO_MERGE
              + ") must be below "
              + MAX_WRITE_BUFFER_NUMBER
              + " ("
              + memtables
              + ") or writes would stall before a flush starts");
    }
    return new BufferConfig(
        s.path(DIR, DIR_DEFAULT_PREFIX + partitionId),
        s.path(WAL_DIR, null),
        s.enumValue(DURABILITY, DURABILITY_DEFAULT),
        s.bytes(MAX_BYTES, MAX_BYTES_DEFAULT, 1L << 20, 1L << 50),
        s.bytes(MAX_GROUP_BYTES, MAX_GROUP_BYTES_DEFAULT, 64L << 10, 1L << 30),
        s.bytes(WRITE_BUFFER_SIZE, WRITE_BUFFER_SIZE_DEFAULT, 1L << 20, 4L << 30),
        memtables,
        merged,
        s.intValue(
            MAX_BACKGROUND_JOBS, Math.max(2, Runtime.getRuntime().availableProcessors()), 1, 256),
        s.enumValue(COMPRESSION, COMPRESSION_DEFAULT),
        s.intValue(IDEMPOTENCY_MAX_KEYS, IDEMPOTENCY_MAX_KEYS_DEFAULT, 0, 100_000_000),
        s.seconds(
            IDEMPOTENCY_RETENTION,
            IDEMPOTENCY_RETENTION_DEFAULT,
            Duration.ofSeconds(1),
            Duration.ofDays(365)));
  }

  /** The defaults, in {@code dir}: for tests and tools. */
  public static BufferConfig defaults(Path dir) {
    return load(Settings.of(Map.of(DIR, dir.toString())), 0);
  }

  public BufferConfig withDurability(Durability d) {
    return new BufferConfig(
        dir,
        walDir,
        d,
        maxBytes,
        maxGroupBytes,
        writeBufferSize,
        maxWriteBufferNumber,
        minWriteBufferNumberToMerge,
        maxBackgroundJobs,
        compression,
        idempotencyMaxKeys,
        idempotencyRetention);
  }

  public BufferConfig withMaxBytes(long max) {
    return new BufferConfig(
        dir,
        walDir,
        durability,
        max,
        maxGroupBytes,
        writeBufferSize,
        maxWriteBufferNumber,
        minWriteBufferNumberToMerge,
        maxBackgroundJobs,
        compression,
        idempotencyMaxKeys,
        idempotencyRetention);
  }
}
