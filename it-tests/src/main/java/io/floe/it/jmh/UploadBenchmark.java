package io.floe.it.jmh;

import io.floe.catalog.local.LocalS3;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.iceberg.aws.s3.S3FileIO;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Upload of one data file through Iceberg's S3FileIO (what the flusher streams Parquet through) to
 * the local S3-compatible server on loopback, which stores it on the local disk. Score: files/s; ×
 * the file size = MB/s. The local server shares the machine, so this is a floor for the client's
 * cost, not a figure for AWS S3.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class UploadBenchmark {
  @Param({"16"})
  public int megabytes;

  private Path dir;
  private LocalS3 s3;
  private S3FileIO io;
  private byte[] data;
  private long n;

  @Setup
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("floe-jmh-upload");
    s3 = LocalS3.start(dir, 0, "bench");
    io = new S3FileIO();
    io.initialize(s3.fileIoProperties());
    data = new byte[megabytes << 20];
    new SplittableRandom(1).nextBytes(data); // incompressible, like Parquet pages
  }

  @Benchmark
  public long upload() throws IOException {
    String location = "s3://bench/data/file-" + (n++ % 4) + ".parquet";
    try (OutputStream out = io.newOutputFile(location).createOrOverwrite()) {
      for (int off = 0; off < data.length; off += 1 << 20) {
        out.write(data, off, Math.min(1 << 20, data.length - off));
      }
    }
    return n;
  }

  @TearDown
  public void tearDown() throws Exception {
    io.close();
    s3.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
