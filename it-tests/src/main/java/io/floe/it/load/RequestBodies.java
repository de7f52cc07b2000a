package io.floe.it.load;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Pre-generated NDJSON request bodies, so the generator spends no time building requests. Events
 * look like {@code {"event_time":<ms>,"key":"k<n>","n":<int>,"data":"<letters>"}}, padded to the
 * payload size; the micro-benchmarks decode the same bodies.
 */
public final class RequestBodies {
  private RequestBodies() {}

  static Buffer[] generate(LoadOptions o) {
    SplittableRandom random = new SplittableRandom(42);
    Buffer[] bodies = new Buffer[o.bodies()];
    for (int b = 0; b < bodies.length; b++) {
      bodies[b] =
          Buffer.buffer(
              ndjson(random, o.batchEvents(), o.payloadBytes(), o.keys(), o.badPercent()));
    }
    return bodies;
  }

  /** One NDJSON body of {@code events} events of about {@code payloadBytes} each. */
  public static byte[] ndjson(SplittableRandom random, int events, int payloadBytes, int keys) {
    return ndjson(random, events, payloadBytes, keys, 0);
  }

  /**
   * {@link #ndjson(SplittableRandom, int, int, int)} with {@code badPercent} of the events (spread
   * evenly through the body) replaced by malformed lines of about the same size: an unterminated
   * object, which a stream under a {@code dead_letter} policy keeps as a dead letter and one under
   * {@code reject} refuses with the whole request.
   */
  public static byte[] ndjson(
      SplittableRandom random, int events, int payloadBytes, int keys, int badPercent) {
    StringBuilder sb = new StringBuilder(events * (payloadBytes + 1));
    long badSoFar = 0;
    for (int e = 0; e < events; e++) {
      int start = sb.length();
      // the e-th event is bad when it raises the bad count to floor((e + 1) * percent / 100)
      boolean bad = (long) (e + 1) * badPercent / 100 > badSoFar;
      if (bad) {
        badSoFar++;
        sb.append("{\"bad\":\"");
        int pad = payloadBytes - (sb.length() - start);
        for (int i = 0; i < pad; i++) {
          sb.append((char) ('a' + random.nextInt(26)));
        }
        sb.append('\n');
        continue;
      }
      sb.append("{\"event_time\":").append(1_795_000_000_000L + random.nextInt(3_600_000));
      if (keys > 0) {
        sb.append(",\"key\":\"k").append(random.nextInt(keys)).append('"');
      }
      sb.append(",\"n\":").append(random.nextInt(1_000_000)).append(",\"data\":\"");
      int pad = payloadBytes - (sb.length() - start) - 2;
      for (int i = 0; i < pad; i++) {
        sb.append((char) ('a' + random.nextInt(26)));
      }
      sb.append("\"}\n");
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
