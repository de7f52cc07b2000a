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
      bodies[b] = Buffer.buffer(ndjson(random, o.batchEvents(), o.payloadBytes(), o.keys()));
    }
    return bodies;
  }

  /** One NDJSON body of {@code events} events of about {@code payloadBytes} each. */
  public static byte[] ndjson(SplittableRandom random, int events, int payloadBytes, int keys) {
    StringBuilder sb = new StringBuilder(events * (payloadBytes + 1));
    for (int e = 0; e < events; e++) {
      int start = sb.length();
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
