package io.floe.node.columns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/**
 * The hand-written field locator held to Jackson's verdict: for random events and random paths,
 * the span it finds is the value Jackson finds there (first occurrence of a duplicate), or absent
 * when Jackson finds none; and the converter's rules at their edges.
 */
class FieldLocatorTest {
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
      new FieldLocator(paths).locate(bytes, 2, bytes.length - 3, start, end);
      JsonNode tree = JSON.readTree(event);
      for (int i = 0; i < paths.size(); i++) {
        JsonNode expected = tree;
        for (String name : paths.get(i)) {
          expected = expected != null && expected.isObject() ? expected.get(name) : null;
        }
        if (expected == null) {
          assertThat(start[i]).as("%s in %s", paths.get(i), event).isEqualTo(-1);
        } else {
          String found = new String(bytes, start[i], end[i] - start[i], StandardCharsets.UTF_8);
          assertThat(JSON.readTree(found)).as("%s in %s", paths.get(i), event).isEqualTo(expected);
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
      sb.append(JSON.valueToTree(name).toString()).append(random.nextBoolean() ? ":" : " : ").append(value(random, depth));
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

  @Test
  void convertsAtTheEdgesOfEachType() {
    assertThat(convert("9223372036854775807", Types.LongType.get())).isEqualTo(Long.MAX_VALUE);
    assertThat(convert("-9223372036854775808", Types.LongType.get())).isEqualTo(Long.MIN_VALUE);
    assertThat(convert("1e2", Types.LongType.get())).isEqualTo(100L);
    assertThat(convert("2.0", Types.IntegerType.get())).isEqualTo(2);
    mismatch("9223372036854775808", Types.LongType.get(), "a whole number in range");
    mismatch("1.5", Types.LongType.get(), "a whole number");
    mismatch("\"1\"", Types.LongType.get(), "expected a long");
    mismatch("2147483648", Types.IntegerType.get(), "32 bits");
    mismatch("1e39", Types.FloatType.get(), "a float in range");
    assertThat(convert("\"-0.50\"", Types.DecimalType.of(3, 2))).isEqualTo(new BigDecimal("-0.50"));
    mismatch("123.4", Types.DecimalType.of(4, 2), "at most 4 digits");
    mismatch("\"1,5\"", Types.DecimalType.of(4, 2), "a number for decimal(4,2)");
    assertThat(convert("\"a\\u00e9\\n\"", Types.StringType.get())).isEqualTo("aé\n");
    assertThat(convert("{\"a\":[1]}", Types.StringType.get())).isEqualTo("{\"a\":[1]}");
    mismatch("\"2026-02-30\"", Types.DateType.get(), "a date");
    mismatch("\"2026-12-03T10:00:00\"", Types.TimestampType.withZone(), "RFC 3339 with offset");
    assertThat(convert("\"2026-12-03T10:00:00+02:00\"", Types.TimestampType.withoutZone()))
        .isEqualTo(java.time.LocalDateTime.parse("2026-12-03T08:00:00"));
    assertThat(convert("0", Types.TimestampType.withZone()))
        .isEqualTo(java.time.OffsetDateTime.parse("1970-01-01T00:00:00Z"));
    mismatch("\"123e4567e89b12d3a456426614174000\"", Types.UUIDType.get(), "a uuid");
    mismatch("[1,\"x\"]", Types.ListType.ofOptional(9, Types.LongType.get()), "element 2: expected a long");
    mismatch("1", Types.ListType.ofOptional(9, Types.LongType.get()), "expected an array");
    assertThat(convert("null", Types.UUIDType.get())).isNull();
  }

  private static Object convert(String json, org.apache.iceberg.types.Type type) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return ValueConverter.convert(b, 0, b.length, type);
  }

  private static void mismatch(String json, org.apache.iceberg.types.Type type, String message) {
    assertThatThrownBy(() -> convert(json, type)).isInstanceOf(ValueConverter.Mismatch.class).hasMessageContaining(message);
  }
}
