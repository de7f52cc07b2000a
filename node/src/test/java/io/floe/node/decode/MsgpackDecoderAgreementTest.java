package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import io.floe.node.json.EventTimes;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueType;

/**
 * The streaming MessagePack decoder against a reference: msgpack-core's value tree written out by
 * Jackson's generator (what the decoder did before it streamed). On generated bodies of every kind
 * of value, in every integer width, with strings that need escaping or are not UTF-8, both accept
 * the same bodies with the same events (time, key, JSON text), and refuse the same ones.
 */
class MsgpackDecoderAgreementTest {
  private static final long INGEST = 1_795_000_000_000_000L;
  private static final FieldNames FIELDS = new FieldNames("key", "event_time");
  private static final String[] NAMES = {
    "key", "event_time", "a", "b", "ключ", "q\"uote", "new\nline", "back\\slash", "42", ""
  };
  private static final String[] TEXTS = {
    "",
    "x",
    "hello world",
    "é",
    "😀",
    "\u2028",
    "\"",
    "\\",
    "/",
    "\u007f",
    "\u0000\u001f\b\t\n\f\r",
    "2026-11-23T10:00:00.123456Z",
    "2026-11-23 11:00:00+01:00",
    "yesterday"
  };

  record Event(long time, String key, String payload) {}

  @Test
  void decodesWhatTheValueTreeDecodedAndRefusesWhatItRefused() throws IOException {
    SplittableRandom random = new SplittableRandom(11);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < 10_000; i++) {
      byte[] body = body(random);
      Object expected = outcome(() -> reference(body));
      Object actual = outcome(() -> streaming(body));
      if (expected instanceof IngestException e) {
        assertThat(actual)
            .as(() -> "refused by the reference (" + e.getMessage() + "): " + hex(body))
            .isInstanceOf(IngestException.class);
        IngestException refusal = (IngestException) actual;
        assertThat(refusal.error())
            .as(() -> e.getMessage() + " vs " + refusal.getMessage() + ": " + hex(body))
            .isEqualTo(e.error());
        refused++;
      } else {
        assertThat(actual).as(() -> hex(body)).isEqualTo(expected);
        accepted++;
      }
    }
    assertThat(accepted).isGreaterThan(3_000);
    assertThat(refused).isGreaterThan(3_000);
  }

  private interface Decode {
    List<Event> run() throws IOException;
  }

  private static Object outcome(Decode decode) throws IOException {
    try {
      return decode.run();
    } catch (IngestException e) {
      return e;
    }
  }

  private static List<Event> streaming(byte[] body) {
    MsgpackBounds.check(body, body.length, 1 << 20);
    EventBatch.Builder out = new EventBatch.Builder("s", INGEST, 64);
    new MsgpackEventDecoder(FIELDS, 1 << 20, INGEST, out, null, null).decode(body, body.length);
    return events(out.build());
  }

  private static List<Event> events(EventBatch batch) {
    List<Event> out = new ArrayList<>();
    EventBatchReader r = batch.reader();
    while (r.next()) {
      out.add(new Event(r.eventTimeMicros(), r.key(), r.payload()));
    }
    return out;
  }

  // --- the generator --------------------------------------------------------------------------

  private static byte[] body(SplittableRandom random) throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    int form = random.nextInt(3);
    int n = 1 + random.nextInt(3);
    if (form == 1) {
      p.packArrayHeader(n);
    }
    for (int i = 0; i < (form == 0 ? 1 : n); i++) {
      if (random.nextInt(40) == 0) {
        value(p, random, 1); // rarely: an element that is not a map
      } else {
        event(p, random);
      }
    }
    p.close();
    return p.toByteArray();
  }

  private static void event(MessageBufferPacker p, SplittableRandom random) throws IOException {
    int pairs = random.nextInt(6);
    p.packMapHeader(pairs);
    for (int i = 0; i < pairs; i++) {
      int kind = random.nextInt(10);
      if (kind < 3) {
        p.packString(kind == 0 ? "key" : "event_time");
        if (kind == 0) {
          scalar(p, random);
        } else {
          time(p, random);
        }
      } else {
        name(p, random);
        value(p, random, 0);
      }
    }
  }

  private static void name(MessageBufferPacker p, SplittableRandom random) throws IOException {
    switch (random.nextInt(40)) {
      case 0 -> p.packBoolean(true); // refused: not a string or an integer
      case 1 -> invalidUtf8(p, random);
      case 2, 3, 4, 5 -> p.packInt(random.nextInt(-100, 100));
      default -> p.packString(NAMES[random.nextInt(NAMES.length)]);
    }
  }

  private static void time(MessageBufferPacker p, SplittableRandom random) throws IOException {
    switch (random.nextInt(8)) {
      case 0 -> p.packNil();
      case 1 -> p.packLong(1_795_000_000_000L + random.nextInt(1_000_000));
      case 2 ->
          p.packTimestamp(
              Instant.ofEpochSecond(
                  random.nextLong(0, 4_000_000_000L), random.nextInt(1_000_000_000)));
      case 3 -> p.packString(TEXTS[random.nextInt(TEXTS.length)]);
      default -> value(p, random, 1);
    }
  }

  private static void value(MessageBufferPacker p, SplittableRandom random, int depth)
      throws IOException {
    int kind = random.nextInt(depth > 3 ? 8 : 10);
    switch (kind) {
      case 8 -> {
        int n = random.nextInt(4);
        p.packArrayHeader(n);
        for (int i = 0; i < n; i++) {
          value(p, random, depth + 1);
        }
      }
      case 9 -> {
        int n = random.nextInt(4);
        p.packMapHeader(n);
        for (int i = 0; i < n; i++) {
          name(p, random);
          value(p, random, depth + 1);
        }
      }
      default -> scalar(p, random);
    }
  }

  private static void scalar(MessageBufferPacker p, SplittableRandom random) throws IOException {
    switch (random.nextInt(40)) {
      case 0 -> p.packDouble(random.nextBoolean() ? Double.NaN : Double.NEGATIVE_INFINITY);
      case 1 -> p.packExtensionTypeHeader((byte) 3, 1).writePayload(new byte[] {1});
      case 2 -> invalidUtf8(p, random);
      case 3, 4 -> p.packNil();
      case 5, 6 -> p.packBoolean(random.nextBoolean());
      case 7, 8 -> p.packLong(random.nextLong());
      case 9, 10 -> p.packInt(random.nextInt(-40, 200));
      case 11, 12 -> wideInteger(p, random);
      case 13 ->
          p.packBigInteger(
              BigInteger.ONE.shiftLeft(63).add(BigInteger.valueOf(random.nextInt(1000))));
      case 14, 15 ->
          p.packDouble(
              random.nextBoolean() ? random.nextDouble() * 1e6 : -random.nextDouble() / 1e9);
      case 16 -> p.packFloat((float) random.nextDouble());
      case 17 -> p.packDouble(new double[] {-0.0, 1e300, 1e-7, 0.1, 100.0}[random.nextInt(5)]);
      case 18, 19 -> {
        byte[] b = new byte[random.nextInt(8)];
        random.nextBytes(b);
        p.packBinaryHeader(b.length).writePayload(b);
      }
      case 20, 21 ->
          p.packTimestamp(
              Instant.ofEpochSecond(
                  random.nextLong(-100_000, 10_000_000_000L), random.nextInt(1_000_000_000)));
      default -> {
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(4); i > 0; i--) {
          s.append(TEXTS[random.nextInt(TEXTS.length)]);
        }
        p.packString(s.toString());
      }
    }
  }

  /** A small integer in a wider encoding than needed (uint8..64, int8..64), as some packers do. */
  private static void wideInteger(MessageBufferPacker p, SplittableRandom random)
      throws IOException {
    int[] widths = {1, 2, 4, 8};
    int width = widths[random.nextInt(4)];
    boolean signed = random.nextBoolean();
    long v = signed ? random.nextInt(-128, 128) : random.nextInt(256);
    int code = (signed ? 0xd0 : 0xcc) + Integer.numberOfTrailingZeros(width);
    ByteBuffer b = ByteBuffer.allocate(1 + width).put((byte) code);
    switch (width) {
      case 1 -> b.put((byte) v);
      case 2 -> b.putShort((short) v);
      case 4 -> b.putInt((int) v);
      default -> b.putLong(v);
    }
    p.writePayload(b.array());
  }

  private static void invalidUtf8(MessageBufferPacker p, SplittableRandom random)
      throws IOException {
    byte[][] bad = {
      {(byte) 0xff},
      {(byte) 0xc0, (byte) 0x80},
      {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
      {'a', (byte) 0xe2, (byte) 0x82}
    };
    byte[] b = bad[random.nextInt(bad.length)];
    p.packRawStringHeader(b.length).writePayload(b);
  }

  private static String hex(byte[] body) {
    StringBuilder s = new StringBuilder();
    for (byte b : body) {
      s.append(String.format("%02x", b));
    }
    return s.toString();
  }

  // --- the reference: msgpack-core's value tree, written by Jackson -----------------------------

  private static final JsonFactory JSON = new JsonFactory();

  private static List<Event> reference(byte[] body) throws IOException {
    MsgpackBounds.check(body, body.length, 1 << 20);
    EventBatch.Builder out = new EventBatch.Builder("s", INGEST, 64);
    int element = 0;
    try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(body)) {
      boolean first = true;
      while (unpacker.hasNext()) {
        Value value = unpacker.unpackValue();
        if (first && value.getValueType() == ValueType.ARRAY && !unpacker.hasNext()) {
          for (Value item : value.asArrayValue()) {
            element++;
            referenceEvent(item, "element " + element, out);
          }
        } else {
          element++;
          referenceEvent(value, "element " + element, out);
        }
        first = false;
      }
    } catch (MessagePackException e) {
      throw new IngestException.BadRequest("malformed_msgpack", "element " + (element + 1));
    }
    return events(out.build());
  }

  private static void referenceEvent(Value value, String where, EventBatch.Builder out)
      throws IOException {
    if (value.getValueType() != ValueType.MAP) {
      throw new IngestException.BadRequest("not_an_object", where);
    }
    byte[] key = null;
    long eventMicros = INGEST;
    ByteArrayBuilder json = new ByteArrayBuilder();
    try (JsonGenerator gen = JSON.createGenerator(json, JsonEncoding.UTF8)) {
      gen.writeStartObject();
      boolean keySeen = false;
      boolean timeSeen = false;
      for (Map.Entry<Value, Value> e : value.asMapValue().entrySet()) {
        String name = fieldName(e.getKey());
        Value v = e.getValue();
        if (!keySeen && name.equals(FIELDS.keyField())) {
          keySeen = true;
          key = keyOf(v);
        } else if (!timeSeen && name.equals(FIELDS.timeField())) {
          timeSeen = true;
          eventMicros = timeOf(v);
        }
        gen.writeFieldName(name);
        writeJson(gen, v);
      }
      gen.writeEndObject();
    }
    byte[] payload = json.toByteArray();
    out.add(eventMicros, key, payload, 0, payload.length);
  }

  private static String fieldName(Value k) {
    return switch (k.getValueType()) {
      case STRING -> k.asStringValue().asString();
      case INTEGER -> k.toString();
      default -> throw new IngestException.BadRequest("malformed_msgpack", "key");
    };
  }

  private static byte[] keyOf(Value v) {
    return switch (v.getValueType()) {
      case NIL -> null;
      case STRING -> v.asStringValue().asByteArray();
      case INTEGER, FLOAT, BOOLEAN -> v.toString().getBytes(StandardCharsets.UTF_8);
      default -> throw new IngestException.BadRequest("bad_key", "key");
    };
  }

  private static long timeOf(Value v) {
    try {
      if (v.isTimestampValue()) {
        Instant instant = v.asTimestampValue().toInstant();
        return EventTimes.fromEpochMillis(instant.toEpochMilli())
            + (instant.getNano() / 1000) % 1000;
      }
      return switch (v.getValueType()) {
        case NIL -> INGEST;
        case STRING -> EventTimes.parseRfc3339(v.asStringValue().asString());
        case INTEGER -> {
          if (!v.asIntegerValue().isInLongRange()) {
            throw new IllegalArgumentException("out of range");
          }
          yield EventTimes.fromEpochMillis(v.asIntegerValue().toLong());
        }
        default -> throw new IllegalArgumentException("expected");
      };
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IngestException.BadRequest("bad_event_time", "time");
    }
  }

  private static void writeJson(JsonGenerator gen, Value v) throws IOException {
    if (v.isTimestampValue()) {
      gen.writeString(v.asTimestampValue().toInstant().toString());
      return;
    }
    switch (v.getValueType()) {
      case NIL -> gen.writeNull();
      case BOOLEAN -> gen.writeBoolean(v.asBooleanValue().getBoolean());
      case INTEGER -> {
        if (v.asIntegerValue().isInLongRange()) {
          gen.writeNumber(v.asIntegerValue().toLong());
        } else {
          gen.writeNumber(v.asIntegerValue().toBigInteger());
        }
      }
      case FLOAT -> {
        double d = v.asFloatValue().toDouble();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          throw new IngestException.BadRequest("malformed_msgpack", "NaN");
        }
        gen.writeNumber(d);
      }
      case STRING -> gen.writeString(v.asStringValue().asString());
      case BINARY ->
          gen.writeString(Base64.getEncoder().encodeToString(v.asBinaryValue().asByteArray()));
      case ARRAY -> {
        gen.writeStartArray();
        for (Value item : v.asArrayValue()) {
          writeJson(gen, item);
        }
        gen.writeEndArray();
      }
      case MAP -> {
        gen.writeStartObject();
        for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
          gen.writeFieldName(fieldName(e.getKey()));
          writeJson(gen, e.getValue());
        }
        gen.writeEndObject();
      }
      case EXTENSION -> throw new IngestException.BadRequest("malformed_msgpack", "extension");
    }
  }
}
