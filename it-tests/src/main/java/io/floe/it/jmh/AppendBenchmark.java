package io.floe.it.jmh;

import io.floe.common.config.Settings;
import io.floe.it.load.RequestBodies;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.Durability;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.event.EventBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The partition buffer's group commit as the WAL writer thread does it: one {@link
 * RocksBuffer#append} of {@value #GROUP} decoded requests (1,000 events each) = one WriteBatch and,
 * in sync mode, one fsync. Score: requests/s; × the request size printed at set-up = MB/s. Written
 * data is dropped after each iteration, as the flusher would.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AppendBenchmark {
  static final int GROUP = 8;

  @Param({"SYNC", "ASYNC", "NONE"})
  public Durability durability;

  @Param({"1024"})
  public int payloadBytes;

  /** SST block compression of flushed memtables (buffer.compression). */
  @Param({"LZ4", "NONE"})
  public BufferConfig.Compression compression;

  private Path dir;
  private RocksBuffer buffer;
  private List<EventBatch> group;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("floe-jmh-append");
    buffer =
        RocksBuffer.open(
            BufferConfig.load(
                Settings.of(
                    Map.of(
                        "buffer.dir",
                        dir.toString(),
                        "buffer.durability",
                        durability.name(),
                        "rocksdb.compression",
                        compression.name())),
                0),
            0);
    RequestDecoder decoder = new RequestDecoder(256L << 20, 1L << 20);
    SplittableRandom random = new SplittableRandom(1);
    group = new ArrayList<>();
    for (int i = 0; i < GROUP; i++) {
      byte[] body = RequestBodies.ndjson(random, 1000, payloadBytes, 1000);
      group.add(
          decoder.decode(
              "bench",
              RequestDecoder.Format.NDJSON,
              null,
              body,
              body.length,
              new FieldNames("key", "event_time"),
              1L));
    }
    System.out.printf(
        "%nrequest: %d bytes stored, %d per group%n", group.get(0).sizeBytes(), GROUP);
  }

  @Benchmark
  @OperationsPerInvocation(GROUP)
  public Object append() throws Exception {
    return buffer.append(group);
  }

  @TearDown(Level.Iteration)
  public void drop() throws Exception {
    buffer.dropThrough(buffer.highWaterMark());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    buffer.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
