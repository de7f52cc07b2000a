package io.floe.node.buffer;

import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.CompressionType;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;

/**
 * How a partition buffer's RocksDB is tuned, from {@link BufferConfig}: for a write-once buffer
 * whose batches are read once by the flusher and then deleted. The {@link Options} it builds belong
 * to the caller ({@link RocksBuffer}), which closes them after the database.
 */
final class RocksTuning {
  private RocksTuning() {}

  /** Options for the buffer in {@code c}, reading blocks through {@code cache}. */
  static Options options(BufferConfig c, LRUCache cache) {
    BlockBasedTableConfig table =
        new BlockBasedTableConfig().setBlockCache(cache).setBlockSize(64 << 10);
    Options o =
        new Options()
            .setCreateIfMissing(true)
            .setMaxBackgroundJobs(c.maxBackgroundJobs())
            .setWriteBufferSize(c.writeBufferSize())
            .setMaxWriteBufferNumber(c.maxWriteBufferNumber())
            // immutable memtables flushed together: the range deletion of a commit drops the
            // batches it covers from the flush output, so committed data need never be written to
            // an SST
            .setMinWriteBufferNumberToMerge(c.minWriteBufferNumberToMerge())
            // a write-once buffer: every batch is read once by the flusher and then deleted, so
            // background compaction would only rewrite data about to go. Committed ranges are
            // reclaimed by a manual compaction once SST files outgrow the memtables (see
            // RocksBuffer.reclaim); the buffer budget bounds the number of L0 files in between.
            .setDisableAutoCompactions(true)
            .setLevel0SlowdownWritesTrigger(Integer.MAX_VALUE)
            .setLevel0StopWritesTrigger(Integer.MAX_VALUE)
            .setSoftPendingCompactionBytesLimit(0)
            .setHardPendingCompactionBytesLimit(0)
            .setBytesPerSync(1L << 20)
            .setWalBytesPerSync(1L << 20)
            .setCompressionType(compression(c.compression()))
            .setTableFormatConfig(table);
    if (c.walDir() != null) {
      o.setWalDir(c.walDir().toString());
    }
    return o;
  }

  private static CompressionType compression(BufferConfig.Compression c) {
    return switch (c) {
      case NONE -> CompressionType.NO_COMPRESSION;
      case LZ4 -> CompressionType.LZ4_COMPRESSION;
      case ZSTD -> CompressionType.ZSTD_COMPRESSION;
      case SNAPPY -> CompressionType.SNAPPY_COMPRESSION;
    };
  }
}
