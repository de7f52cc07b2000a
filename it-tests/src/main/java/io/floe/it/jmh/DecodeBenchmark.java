package io.floe.it.jmh;

import io.floe.it.load.RequestBodies;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.event.EventBatch;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Request decoding on one core: an NDJSON body of 1,000 events (the load generator's) into the
 * stored batch layout, validating every event and reading its key and time. Score: requests/s;
 * multiply by the body size printed at set-up for MB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DecodeBenchmark {
  @Param({"100", "1024"})
  public int payloadBytes;

  private final RequestDecoder decoder = new RequestDecoder(256L << 20, 1L << 20);
  private final FieldNames fields = new FieldNames("key", "event_time");
  private byte[] body;

  @Setup
  public void setUp() {
    body = RequestBodies.ndjson(new SplittableRandom(1), 1000, payloadBytes, 1000);
    System.out.printf("%nbody: %d bytes, 1000 events%n", body.length);
  }

  @Benchmark
  public EventBatch ndjson() {
    return decoder.decode(
        "bench", RequestDecoder.Format.NDJSON, null, body, body.length, fields, 1L);
  }
}
