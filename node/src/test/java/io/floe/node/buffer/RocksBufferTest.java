package io.floe.node.buffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.Settings;
import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksBufferTest {
  @TempDir Path dir;

  static EventBatch batch(String stream, int events, String tag) {
    EventBatch.Builder b = new EventBatch.Builder(stream, 1_000L, 64);
    for (int i = 0; i < events; i++) {
      byte[] payload =
          ("{\"tag\":\"" + tag + "\",\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8);
      b.add(2_000L + i, ("k" + i).getBytes(StandardCharsets.UTF_8), payload, 0, payload.length);
    }
    return b.build();
  }

  private List<String> storedTags(RocksBuffer buffer) throws Exception {
    List<String> out = new ArrayList<>();
    buffer.forEachBatch(
        buffer.committedSequence(),
        (first, b) -> {
          var r = b.reader();
          while (r.next()) {
            out.add((first + r.index()) + "=" + r.payload());
          }
          return true;
        });
    return out;
  }

  @Test
  void sequencesAreContiguousAndSurviveRestart() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    try (RocksBuffer buffer = RocksBuffer.open(config, 7)) {
      assertThat(buffer.highWaterMark()).isZero();
      List<Appended> a = buffer.append(List.of(batch("s", 3, "a"), batch("s", 2, "b")));
      assertThat(a).containsExactly(new Appended(1, 3), new Appended(4, 5));
      assertThat(buffer.bufferedEvents()).isEqualTo(5);
    }
    try (RocksBuffer buffer = RocksBuffer.open(config, 7)) {
      assertThat(buffer.highWaterMark()).isEqualTo(5);
      assertThat(storedTags(buffer))
          .containsExactly(
              "1={\"tag\":\"a\",\"i\":0}",
              "2={\"tag\":\"a\",\"i\":1}",
              "3={\"tag\":\"a\",\"i\":2}",
              "4={\"tag\":\"b\",\"i\":0}",
              "5={\"tag\":\"b\",\"i\":1}");
      assertThat(buffer.append(List.of(batch("s", 1, "c")))).containsExactly(new Appended(6, 6));
    }
  }

  @Test
  void dropThroughFreesBatchesAndSequencesAreNeverReused() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    try (RocksBuffer buffer = RocksBuffer.open(config, 1)) {
      buffer.append(List.of(batch("s", 3, "a"), batch("s", 2, "b")));
      long before = buffer.bufferedBytes();
      assertThatThrownBy(() -> buffer.dropThrough(2)).hasMessageContaining("inside batch 1..3");
      long freed = buffer.dropThrough(3);
      assertThat(freed).isPositive();
      assertThat(buffer.bufferedBytes()).isEqualTo(before - freed);
      assertThat(buffer.committedSequence()).isEqualTo(3);
      assertThat(buffer.bufferedEvents()).isEqualTo(2);
      assertThat(storedTags(buffer)).hasSize(2).allMatch(s -> s.contains("\"b\""));
      buffer.dropThrough(5);
      assertThat(buffer.bufferedBytes()).isZero();
    }
    try (RocksBuffer buffer = RocksBuffer.open(config, 1)) {
      assertThat(buffer.committedSequence()).isEqualTo(5);
      assertThat(storedTags(buffer)).isEmpty();
      assertThat(buffer.append(List.of(batch("s", 1, "c")))).containsExactly(new Appended(6, 6));
    }
  }

  private long sstBytes() throws Exception {
    try (var files = Files.list(dir)) {
      return files
          .filter(f -> f.toString().endsWith(".sst"))
          .mapToLong(f -> f.toFile().length())
          .sum();
    }
  }

  @Test
  void droppedRangesGiveTheirFilesBackWithoutCompaction() throws Exception {
    BufferConfig small =
        BufferConfig.load(
            Settings.of(
                Map.of(
                    "buffer.dir",
                    dir.toString(),
                    "buffer.durability",
                    "async",
                    "buffer.max-bytes",
                    "1GiB",
                    "rocksdb.write-buffer-size",
                    "1MiB",
                    "rocksdb.max-write-buffer-number",
                    "2",
                    "rocksdb.max-background-jobs",
                    "2",
                    "rocksdb.compression",
                    "none")),
            0);
    try (RocksBuffer buffer = RocksBuffer.open(small, 0)) {
      for (int i = 0; i < 150; i++) {
        buffer.append(List.of(batch("s", 2000, "b" + i)));
      }
      long deadline = System.nanoTime() + 20_000_000_000L;
      long before = -1;
      while (before < (4L << 20) || before != sstBytes()) {
        assertThat(System.nanoTime()).as("memtables flushed to SST files").isLessThan(deadline);
        before = sstBytes();
        Thread.sleep(300);
      }
      buffer.dropThrough(buffer.highWaterMark());
      assertThat(sstBytes()).isLessThan(before / 4);
      assertThat(buffer.bufferedBytes()).isZero();
      assertThat(storedTags(buffer)).isEmpty();
    }
  }

  /**
   * Appends ~1 MiB batches into 1 MiB memtables and drops each batch once two newer ones exist (as
   * the flusher commits behind ingestion); returns the bytes RocksDB wrote to SST files.
   */
  private long sstBytesWrittenWhileCommittingBehind(Path into, int memtablesMerged)
      throws Exception {
    BufferConfig c =
        BufferConfig.load(
            Settings.of(
                Map.of(
                    "buffer.dir",
                    into.toString(),
                    "buffer.durability",
                    "async",
                    "buffer.max-bytes",
                    "1GiB",
                    "rocksdb.write-buffer-size",
                    "1MiB",
                    "rocksdb.max-write-buffer-number",
                    "8",
                    "rocksdb.min-write-buffer-number-to-merge",
                    Integer.toString(memtablesMerged),
                    "rocksdb.max-background-jobs",
                    "2",
                    "rocksdb.compression",
                    "none")),
            0);
    try (RocksBuffer buffer = RocksBuffer.open(c, 0)) {
      List<Long> ends = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        ends.add(buffer.append(List.of(batch("s", 20_000, "b" + i))).get(0).lastSequence());
        if (i >= 2) {
          buffer.dropThrough(ends.get(i - 2));
        }
      }
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (buffer.property("rocksdb.num-running-flushes") > 0
          || buffer.property("rocksdb.mem-table-flush-pending") > 0) {
        assertThat(System.nanoTime()).as("pending memtable flushes done").isLessThan(deadline);
        Thread.sleep(100);
      }
      assertThat(buffer.bufferedEvents()).isEqualTo(40_000);
      return buffer.sstBytesWritten();
    }
  }

  @Test
  void mergedMemtablesKeepCommittedBatchesOutOfSstFiles() throws Exception {
    long eachFlushed = sstBytesWrittenWhileCommittingBehind(dir.resolve("one"), 1);
    long merged = sstBytesWrittenWhileCommittingBehind(dir.resolve("seven"), 7);
    // ~60 MiB appended: flushed one memtable at a time, nearly all of it reaches SST files before
    // its commit; seven merged, the range deletions of the commits drop most of it in the flush
    assertThat(eachFlushed).isGreaterThan(30L << 20);
    assertThat(merged).isLessThan(eachFlushed / 2);
  }

  @Test
  void refusesAnotherPartitionsDirectory() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    RocksBuffer.open(config, 1).close();
    assertThatThrownBy(() -> RocksBuffer.open(config, 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("belongs to partition 1, not 2");
  }

  @Test
  void groupCommitOrdersConcurrentWritersAndLosesNothing() throws Exception {
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(dir), 0)) {
      NodeMetrics metrics = new NodeMetrics();
      List<CompletableFuture<Appended>> futures = new ArrayList<>();
      try (GroupCommitter committer = new GroupCommitter(buffer, metrics, e -> {})) {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int thread = t;
          Thread th =
              new Thread(
                  () -> {
                    for (int i = 0; i < 200; i++) {
                      CompletableFuture<Appended> f =
                          committer.submit(batch("s", 5, thread + "-" + i));
                      synchronized (futures) {
                        futures.add(f);
                      }
                    }
                  });
          threads.add(th);
          th.start();
        }
        for (Thread th : threads) {
          th.join();
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();
      }
      List<Appended> ranges =
          futures.stream()
              .map(CompletableFuture::join)
              .sorted((a, b) -> Long.compare(a.firstSequence(), b.firstSequence()))
              .toList();
      long expected = 1;
      for (Appended a : ranges) {
        assertThat(a.firstSequence()).isEqualTo(expected);
        assertThat(a.lastSequence()).isEqualTo(expected + 4);
        expected += 5;
      }
      assertThat(buffer.highWaterMark()).isEqualTo(8 * 200 * 5);
      assertThat(storedTags(buffer)).hasSize(8 * 200 * 5);
    }
  }

  @Test
  void requestsQueuedDuringAWriteShareTheNextOne() throws Exception {
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(dir), 0)) {
      NodeMetrics metrics = new NodeMetrics();
      List<CompletableFuture<Appended>> futures = new ArrayList<>();
      try (GroupCommitter committer = new GroupCommitter(buffer, metrics, e -> {})) {
        // holding the buffer's monitor stalls the writer inside its first write, as a slow fsync
        // would
        synchronized (buffer) {
          for (int i = 0; i < 100; i++) {
            futures.add(committer.submit(batch("s", 1, "r" + i)));
          }
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();
      }
      String scrape = new String(metrics.scrape(), StandardCharsets.UTF_8);
      assertThat(sample(scrape, "floe_node_write_group_requests_sum")).isEqualTo(100);
      assertThat(sample(scrape, "floe_node_write_group_requests_count")).isLessThanOrEqualTo(2);
      assertThat(buffer.highWaterMark()).isEqualTo(100);
    }
  }

  private static long sample(String scrape, String name) {
    return scrape
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /**
   * A key looked up (a request that was not decoded) sees the writes queued before it, answers only
   * for the very request it was given for, and writes nothing.
   */
  @Test
  void aLookedUpKeySeesTheWritesQueuedBeforeItAndWritesNothing() throws Exception {
    byte[] sent = IdempotencyKey.requestFingerprint(List.of("s"), new byte[] {1, 2}, 2);
    byte[] other = IdempotencyKey.requestFingerprint(List.of("s"), new byte[] {1, 3}, 2);
    EventBatch batch = batch("s", 3, "a");
    IdempotencyKey written =
        new IdempotencyKey(
            "p", "s", "k", IdempotencyKey.fingerprint(batch, "key", "time"), sent, 0);
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(dir), 0);
        GroupCommitter committer = new GroupCommitter(buffer, new NodeMetrics(), e -> {})) {
      CompletableFuture<Appended> write;
      CompletableFuture<Appended> same;
      synchronized (buffer) { // the writer waits: the look-up is queued behind the write
        write = committer.submit(batch, written);
        same = committer.remembered(new IdempotencyKey("p", "s", "k", null, sent, 0));
      }
      assertThat(write.get().outcome()).isEqualTo(Outcome.WRITTEN);
      assertThat(same.get())
          .isEqualTo(new Appended(1, 3, Outcome.REPLAYED))
          .isNotSameAs(write.get());
      assertThat(committer.remembered(new IdempotencyKey("p", "s", "k", null, other, 0)).get())
          .as("another request under the key")
          .isNull();
      assertThat(committer.remembered(new IdempotencyKey("q", "s", "k", null, sent, 0)).get())
          .as("another producer's key")
          .isNull();
      assertThat(buffer.highWaterMark()).isEqualTo(3);
      assertThat(buffer.idempotencyKeys()).isEqualTo(1);
    }
  }

  @Test
  void closedCommitterRefusesNewWork() throws Exception {
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(dir), 0)) {
      GroupCommitter committer = new GroupCommitter(buffer, new NodeMetrics(), e -> {});
      committer.close();
      assertThat(committer.submit(batch("s", 1, "x"))).isCompletedExceptionally();
      assertThat(buffer.highWaterMark()).isZero();
    }
  }
}
