package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The hand-written JSON scanner against Jackson, a reference parser: on generated objects and on
 * random single-byte mutations of them, the scanner accepts exactly what Jackson accepts, and what
 * it stores means the same to Jackson as what was sent.
 */
class JsonScannerAgreementTest {
  private static final JsonFactory JACKSON = new JsonFactory();

  /** Field names the generator never uses, so no key/time rule can refuse a line. */
  private static final FieldNames UNUSED = new FieldNames("not_generated_k", "not_generated_t");

  private static final String MUTATIONS = "{}[]:,\"\\ \t\r-+.eE0123456789tfnulrsaxb/";
  private static final String[] TEXTS = {
    "", "a", "hello world", "é", "😀", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\/"
  };
  private static final String[] NUMBERS = {
    "0", "-0", "1", "-12", "3.25", "1e9", "-2.5E-3", "1E+2", "123456789012345678901234567890"
  };

  @Test
  void acceptsExactlyWhatJacksonAccepts() throws IOException {
    SplittableRandom random = new SplittableRandom(7);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      String line = object(random, 0);
      if (i % 4 != 0) {
        line = mutate(random, line);
      }
      byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
      Boolean reference = jacksonAcceptsOneObject(bytes);
      if (reference == null) {
        continue; // nothing but whitespace: no event either way
      }
      EventBatch batch = null;
      try {
        batch = decode(bytes);
      } catch (IngestException.BadRequest e) {
        assertThat(reference)
            .as("scanner refused (%s) what Jackson accepts: %s", e.getMessage(), line)
            .isFalse();
        refused++;
        continue;
      }
      assertThat(reference).as("scanner accepted what Jackson refuses: %s", line).isTrue();
      EventBatchReader r = batch.reader();
      assertThat(r.next()).isTrue();
      assertThat(tokens(r.payload().getBytes(StandardCharsets.UTF_8)))
          .as(line)
          .isEqualTo(tokens(bytes));
      assertThat(r.payload()).doesNotContain("\n");
      accepted++;
    }
    assertThat(accepted).isGreaterThan(4_000);
    assertThat(refused).isGreaterThan(4_000);
  }

  @Test
  void everySpecialByteIsSeenAtEveryPositionOfALongString() throws IOException {
    String[] specials = {"\"", "\\", "\\n", "\t", "\u0001", "\u007f", "é", "😀", "\\u00e9", "x"};
    for (String special : specials) {
      for (int at = 0; at <= 24; at++) {
        String line = "{\"a\":\"" + "y".repeat(at) + special + "z".repeat(24 - at) + "\"}";
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        boolean reference = jacksonAcceptsOneObject(bytes);
        boolean accepted;
        try {
          accepted = decode(bytes).count() == 1;
        } catch (IngestException.BadRequest e) {
          accepted = false;
        }
        assertThat(accepted).as("%s at %d: %s", special, at, line).isEqualTo(reference);
      }
    }
  }

  @Test
  void refusesInvalidUtf8AndDeepNesting() {
    byte[][] bad = {
      {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'},
      {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, '"', '}'}, // truncated sequence
      {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'}, // overlong
      {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, // surrogate
      {'{', '"', 'a', '"', ':', '"', (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"', '}'},
    };
    for (byte[] b : bad) {
      assertThatThrownBy(() -> decode(b))
          .isInstanceOf(IngestException.BadRequest.class)
          .hasMessageContaining("UTF-8");
    }
    String deep =
        "{\"a\":" + "[".repeat(JsonScanner.MAX_DEPTH) + "]".repeat(JsonScanner.MAX_DEPTH) + "}";
    assertThatThrownBy(() -> decode(deep.getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("nested deeper");
    String ok =
        "{\"a\":"
            + "[".repeat(JsonScanner.MAX_DEPTH - 1)
            + "]".repeat(JsonScanner.MAX_DEPTH - 1)
            + "}";
    assertThat(decode(ok.getBytes(StandardCharsets.UTF_8)).count()).isEqualTo(1);
  }

  @Test
  void keyAndTimeFieldsMayBeEscapedOrAnyScalar() {
    FieldNames fields = new FieldNames("key", "ts");
    byte[] body =
        ("{\"k\\u0065y\":\"a\\\"b\",\"ts\":\"2026-11-23T10:00:00Z\"}\n"
                + "{\"key\":true,\"ts\":-1000}\n{\"key\":-1.5e2,\"ts\":null}\n{\"ts\":\"2026-11-23T10:00:00\\u005a\",\"key\":null}")
            .getBytes(StandardCharsets.UTF_8);
    EventBatch.Builder out = new EventBatch.Builder("s", 5, 256);
    new JsonEventDecoder(fields, 1 << 20, 5, out, null, null).decodeNdjson(body, body.length);
    List<String> seen = new ArrayList<>();
    EventBatchReader r = out.build().reader();
    while (r.next()) {
      seen.add(r.key() + "@" + r.eventTimeMicros());
    }
    assertThat(seen)
        .containsExactly(
            "a\"b@1795428000000000", "true@-1000000", "-1.5e2@5", "null@1795428000000000");
    byte[] overflow = "{\"ts\":99999999999999999999}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(
            () ->
                new JsonEventDecoder(
                        fields, 1 << 20, 5, new EventBatch.Builder("s", 5, 64), null, null)
                    .decodeNdjson(overflow, overflow.length))
        .hasMessageContaining("line 1: field 'ts'")
        .hasMessageContaining("not a valid epoch milliseconds");
  }

  private static EventBatch decode(byte[] line) {
    EventBatch.Builder out = new EventBatch.Builder("s", 1, line.length + 64);
    new JsonEventDecoder(UNUSED, 1 << 20, 1, out, null, null).decodeNdjson(line, line.length);
    if (out.count() != 1) {
      throw new IngestException.BadRequest("no_events", "expected one event, got " + out.count());
    }
    return out.build();
  }

  /** Jackson's verdict on "exactly one JSON object": null when there is no value at all. */
  private static Boolean jacksonAcceptsOneObject(byte[] bytes) {
    try (JsonParser p = JACKSON.createParser(bytes)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return null;
      }
      if (first != JsonToken.START_OBJECT) {
        return false;
      }
      p.skipChildren();
      return p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }

  /** Jackson's token stream, values as text: equal streams mean the same JSON. */
  private static List<String> tokens(byte[] bytes) throws IOException {
    List<String> out = new ArrayList<>();
    try (JsonParser p = JACKSON.createParser(bytes)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        out.add(t + ":" + (t.isScalarValue() || t == JsonToken.FIELD_NAME ? p.getText() : ""));
      }
    }
    return out;
  }

  private static String mutate(SplittableRandom random, String s) {
    int at = random.nextInt(s.length() + 1);
    char c = MUTATIONS.charAt(random.nextInt(MUTATIONS.length()));
    return switch (random.nextInt(3)) {
      case 0 -> s.substring(0, at) + c + s.substring(at); // insert
      case 1 -> at < s.length() ? s.substring(0, at) + c + s.substring(at + 1) : s + c; // replace
      default ->
          at < s.length()
              ? s.substring(0, at) + s.substring(at + 1)
              : s.substring(0, s.length() - 1); // delete
    };
  }

  private static String object(SplittableRandom random, int depth) {
    StringBuilder sb = new StringBuilder("{");
    int n = random.nextInt(depth == 0 ? 1 : 0, 4);
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? "," : "")
          .append(space(random))
          .append('"')
          .append((char) ('a' + random.nextInt(3)))
          .append('"')
          .append(space(random))
          .append(':')
          .append(space(random))
          .append(value(random, depth + 1));
    }
    return sb.append(space(random)).append('}').toString();
  }

  private static String value(SplittableRandom random, int depth) {
    int kind = random.nextInt(depth > 4 ? 4 : 6);
    return switch (kind) {
      case 0 -> '"' + TEXTS[random.nextInt(TEXTS.length)] + '"';
      case 1 -> NUMBERS[random.nextInt(NUMBERS.length)];
      case 2 -> new String[] {"true", "false", "null"}[random.nextInt(3)];
      case 3 -> "\"" + "x".repeat(random.nextInt(40)) + "\"";
      case 4 -> object(random, depth);
      default -> {
        StringBuilder sb = new StringBuilder("[");
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          sb.append(i > 0 ? "," : "").append(space(random)).append(value(random, depth + 1));
        }
        yield sb.append(']').toString();
      }
    };
  }

  private static String space(SplittableRandom random) {
    return random.nextInt(5) == 0 ? " \t".substring(0, random.nextInt(1, 3)) : "";
  }
}
