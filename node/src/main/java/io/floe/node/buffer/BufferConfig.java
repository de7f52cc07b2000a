package io.floe.node.buffer;

import java.nio.file.Path;

/**
 * Settings of the RocksDB partition buffer.
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
    Compression compression) {

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

  /** Defaults for tests and tools: sync durability in {@code dir}. */
  public static BufferConfig defaults(Path dir) {
    return new BufferConfig(
        dir, null, Durability.SYNC, 8L << 30, 8L << 20, 64L << 20, 4, 1, 2, Compression.LZ4);
  }

  public BufferConfig withDurability(Durability d) {
    return new BufferConfig(
        dir, walDir, d, maxBytes, maxGroupBytes, writeBufferSize, maxWriteBufferNumber,
        minWriteBufferNumberToMerge, maxBackgroundJobs, compression);
  }

  public BufferConfig withMaxBytes(long max) {
    return new BufferConfig(
        dir, walDir, durability, max, maxGroupBytes, writeBufferSize, maxWriteBufferNumber,
        minWriteBufferNumberToMerge, maxBackgroundJobs, compression);
  }
}
