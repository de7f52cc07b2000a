package io.floe.node.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.node.decode.DecodeBudget;
import io.floe.node.decode.EventCheck;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The path walks held to Jackson's verdict: for random events and random paths, the span {@link
 * FieldPaths#locate} finds in stored JSON, and the span the JSON decoder records while it validates
 * a request (spaced as sent), is the value Jackson finds there, or absent when Jackson finds none.
 */
class FieldPathsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] NAMES = {"a", "b", "user", "id", "x\"y", "é", "amount", "a.b"};

  @Test
  void agreesWithJacksonOnRandomEvents() throws Exception {
    Random random = new Random(7);
    for (int round = 0; round < 2000; round++) {
      String event = object(random, 0);
      List<List<String>> paths = new ArrayList<>();
      for (int i = 0; i < 1 + random.nextInt(5); i++) {
        List<String> path = new ArrayList<>();
        for (int d = 0; d < 1 + random.nextInt(3); d++) {
          path.add(NAMES[random.nextInt(NAMES.length)].replace(".", ""));
        }
        if (!paths.contains(path)) {
          paths.add(path);
        }
      }
      byte[] bytes = ("  " + event + " ").getBytes(StandardCharsets.UTF_8);
      int[] start = new int[paths.size()];
      int[] end = new int[paths.size()];
      new FieldPaths(paths).locate(bytes, 2, bytes.length - 3, start, end);
      int[] decoderStart = new int[paths.size()];
      int[] decoderEnd = new int[paths.size()];
      byte[][] input = new byte[1][];
      EventCheck spy =
          new EventCheck() {
            final FieldPaths fp = new FieldPaths(paths);

            @Override
            public FieldPaths paths() {
              return fp;
            }

            @Override
            public String problem(byte[] json, int[] s, int[] e) {
              System.arraycopy(s, 0, decoderStart, 0, s.length);
              System.arraycopy(e, 0, decoderEnd, 0, e.length);
              input[0] = json;
              return null;
            }
          };
      byte[] line = (event + "\n").getBytes(StandardCharsets.UTF_8);
      new RequestDecoder(1 << 20, 1 << 20)
          .decode(
              "s",
              RequestDecoder.Format.NDJSON,
              null,
              line,
              line.length,
              new FieldNames("key", "event_time"),
              5,
              DecodeBudget.UNLIMITED,
              spy,
              null);
      JsonNode tree = JSON.readTree(event);
      for (int i = 0; i < paths.size(); i++) {
        JsonNode expected = tree;
        for (String name : paths.get(i)) {
          expected = expected != null && expected.isObject() ? expected.get(name) : null;
        }
        if (expected == null) {
          assertThat(start[i]).as("%s in %s", paths.get(i), event).isEqualTo(-1);
          assertThat(decoderStart[i]).as("decoder: %s in %s", paths.get(i), event).isEqualTo(-1);
        } else {
          String found = new String(bytes, start[i], end[i] - start[i], StandardCharsets.UTF_8);
          assertThat(JSON.readTree(found)).as("%s in %s", paths.get(i), event).isEqualTo(expected);
          String recorded =
              new String(
                  input[0],
                  decoderStart[i],
                  decoderEnd[i] - decoderStart[i],
                  StandardCharsets.UTF_8);
          assertThat(JSON.readTree(recorded))
              .as("decoder: %s in %s", paths.get(i), event)
              .isEqualTo(expected);
        }
      }
    }
  }

  /** A random object; names repeat (Jackson keeps the last, so no duplicates here) and nest. */
  private static String object(Random random, int depth) {
    StringBuilder sb = new StringBuilder("{");
    List<String> used = new ArrayList<>();
    int members = random.nextInt(5);
    for (int i = 0; i < members; i++) {
      String name = NAMES[random.nextInt(NAMES.length)];
      if (used.contains(name)) {
        continue;
      }
      used.add(name);
      if (sb.length() > 1) {
        sb.append(random.nextBoolean() ? "," : " , ");
      }
      sb.append(JSON.valueToTree(name).toString())
          .append(random.nextBoolean() ? ":" : " : ")
          .append(value(random, depth));
    }
    return sb.append('}').toString();
  }

  private static String value(Random random, int depth) {
    return switch (random.nextInt(depth < 3 ? 9 : 6)) {
      case 0 -> "null";
      case 1 -> random.nextBoolean() ? "true" : "false";
      case 2 -> Long.toString(random.nextLong() >> random.nextInt(60));
      case 3 -> "-1.5e3";
      case 4 -> "\"s\\\"}]{[,\\\\\"";
      case 5 -> "\"plain\"";
      case 6, 7 -> object(random, depth + 1);
      default -> "[1,{\"a\":[]},\"]\",[[]]]";
    };
  }
}
