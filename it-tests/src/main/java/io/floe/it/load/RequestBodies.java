package io.floe.it.load;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Pre-generated NDJSON request bodies, so the generator spends no time building requests. */
final class RequestBodies {
  private RequestBodies() {}

  static Buffer[] generate(LoadOptions o) {
    SplittableRandom random = new SplittableRandom(42);
    Buffer[] bodies = new Buffer[o.bodies()];
    for (int b = 0; b < bodies.length; b++) {
      StringBuilder sb = new StringBuilder(o.batchEvents() * (o.payloadBytes() + 1));
      for (int e = 0; e < o.batchEvents(); e++) {
        int start = sb.length();
        sb.append("{\"event_time\":").append(1_795_000_000_000L + random.nextInt(3_600_000));
        if (o.keys() > 0) {
          sb.append(",\"key\":\"k").append(random.nextInt(o.keys())).append('"');
        }
        sb.append(",\"n\":").append(random.nextInt(1_000_000)).append(",\"data\":\"");
        int pad = o.payloadBytes() - (sb.length() - start) - 2;
        for (int i = 0; i < pad; i++) {
          sb.append((char) ('a' + random.nextInt(26)));
        }
        sb.append("\"}\n");
      }
      bodies[b] = Buffer.buffer(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
    return bodies;
  }
}
