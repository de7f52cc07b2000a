package io.floe.it.jmh;

import io.floe.catalog.table.EventsTable;
import io.floe.it.load.RequestBodies;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Files;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.DateTimeUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Parquet encoding of the events table's rows with Iceberg's generic writer (what the flusher
 * uses), per compression codec, to a local file: {@value #ROWS} rows of ~1 KiB or 100 B payload per
 * invocation, rows sorted by event time as the flusher sorts them. Score: rows/s; × the payload
 * size = input MB/s. The file size per codec is printed at tear-down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ParquetBenchmark {
  static final int ROWS = 20_000;

  @Param({"zstd", "snappy", "uncompressed"})
  public String codec;

  @Param({"1024", "100"})
  public int payloadBytes;

  private File file;
  private String[] payloads;
  private String[] keys;
  private long[] times;
  private long written;

  @Setup
  public void setUp() throws Exception {
    file = File.createTempFile("floe-jmh", ".parquet");
    SplittableRandom random = new SplittableRandom(1);
    payloads = new String[ROWS];
    keys = new String[ROWS];
    times = new long[ROWS];
    long t0 = 1_795_000_000_000_000L;
    for (int i = 0; i < ROWS; i++) {
      times[i] = t0 + i * 1000L;
      keys[i] = "k" + random.nextInt(1000);
      byte[] body = RequestBodies.ndjson(random, 1, payloadBytes, 1000);
      payloads[i] = new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
    }
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public long encode() throws Exception {
    DataWriter<Record> writer =
        Parquet.writeData(Files.localOutput(file))
            .schema(EventsTable.SCHEMA)
            .withSpec(PartitionSpec.unpartitioned())
            .createWriterFunc(GenericParquetWriter::create)
            .set(TableProperties.PARQUET_COMPRESSION, codec)
            .set(TableProperties.PARQUET_COMPRESSION_LEVEL, "1")
            .overwrite()
            .build();
    GenericRecord record = GenericRecord.create(EventsTable.SCHEMA);
    try (writer) {
      for (int i = 0; i < ROWS; i++) {
        record.set(0, "bench");
        record.set(1, 0);
        record.set(2, (long) i);
        record.set(3, DateTimeUtil.timestamptzFromMicros(times[i]));
        record.set(4, DateTimeUtil.timestamptzFromMicros(times[0]));
        record.set(5, keys[i]);
        record.set(6, payloads[i]);
        writer.write(record);
      }
    }
    written = file.length();
    return written;
  }

  @TearDown
  public void tearDown() {
    System.out.printf(
        "%n%s: %d rows -> %d bytes of Parquet (%.2f of the payload bytes)%n",
        codec, ROWS, written, written / (double) ((long) ROWS * payloadBytes));
    file.delete();
  }
}
