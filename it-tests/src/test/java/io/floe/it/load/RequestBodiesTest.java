package io.floe.it.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RequestBodiesTest {
  @Test
  void badPercentReplacesThatShareOfTheEventsByMalformedLinesOfTheSameSize() {
    for (int percent : new int[] {0, 1, 50, 100}) {
      String body =
          new String(
              RequestBodies.ndjson(new SplittableRandom(7), 1000, 1024, 100, percent),
              StandardCharsets.UTF_8);
      String[] lines = body.split("\n");
      assertThat(lines).hasSize(1000);
      int bad = 0;
      for (String line : lines) {
        assertThat(line.length()).as("line size").isBetween(1000, 1030);
        try {
          new JsonObject(line);
        } catch (DecodeException e) {
          bad++;
        }
      }
      assertThat(bad).as("bad lines at %d %%", percent).isEqualTo(10 * percent);
    }
  }
}
