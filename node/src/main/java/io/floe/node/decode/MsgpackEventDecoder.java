package io.floe.node.decode;

import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.json.EventTimes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * Decodes MessagePack: one map, an array of maps, or a sequence of maps. Each map becomes the
 * compact JSON text of the event; binary values become base64 strings and MessagePack timestamps
 * RFC 3339 strings. The caller checks the framing first ({@link MsgpackBounds}), so no declared
 * length or nesting depth is trusted before the bytes behind it are known to exist.
 *
 * <p>Events are read one at a time, value by value, straight into their JSON text ({@link
 * JsonText}): no value tree is built, so the memory a request takes beyond its body and its batch
 * is one event's text (at most {@code ingest.max-event-bytes}), whatever the body declares. An
 * element that is not a map is refused as soon as its header is read.
 */
final class MsgpackEventDecoder {
  private static final byte TIMESTAMP = -1;

  /** What {@link #fieldName} found, as bits: the key field, the time field (neither: 0). */
  private static final int KEY = 1;

  private static final int TIME = 2;

  private static final String TIME_EXPECTED =
      "expected an RFC 3339 string, integer epoch milliseconds or a MessagePack timestamp";

  private final FieldNames fields;
  private final byte[] keyField;
  private final byte[] timeField;
  private final long maxEventBytes;
  private final long ingestMicros;
  private final EventBatch.Builder out;
  private final EventCheck check;

  /** Where an element the stream cannot take goes; null: the request is refused. */
  private final DeadLetterBatch.Builder dead;

  /** Where the current unpacker starts in {@link #body}. */
  private int base;

  private final int[] checkStart;
  private final int[] checkEnd;
  private final JsonText json = new JsonText();
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8.newDecoder(); // reports, never replaces

  /** The payload of the string or binary value being read. */
  private byte[] raw = new byte[256];

  private CharBuffer chars = CharBuffer.allocate(0);

  /** The body being decoded, for {@link MsgpackBounds#beyondLong}. */
  private byte[] body;

  private int length;

  /** The top-level element (1-based) being read, for messages. */
  private int element;

  MsgpackEventDecoder(
      FieldNames fields,
      long maxEventBytes,
      long ingestMicros,
      EventBatch.Builder out,
      EventCheck check,
      DeadLetterBatch.Builder dead) {
    this.dead = dead;
    this.fields = fields;
    this.keyField = fields.keyField().getBytes(StandardCharsets.UTF_8);
    this.timeField = fields.timeField().getBytes(StandardCharsets.UTF_8);
    this.maxEventBytes = maxEventBytes;
    this.ingestMicros = ingestMicros;
    this.out = out;
    this.check = check;
    this.checkStart = check == null ? null : new int[check.paths().slots()];
    this.checkEnd = check == null ? null : new int[check.paths().slots()];
  }

  /** Decodes {@code body[0, length)}, whose framing {@link MsgpackBounds#check} passed. */
  void decode(byte[] body, int length) {
    this.body = body;
    this.length = length;
    MessageUnpacker u = MessagePack.newDefaultUnpacker(body, 0, length);
    base = 0;
    try {
      if (!u.hasNext()) {
        return;
      }
      if (u.getNextFormat().getValueType() == ValueType.ARRAY) {
        int n = u.unpackArrayHeader();
        for (element = 1; element <= n; element++) {
          u = element(u);
        }
        if (u.hasNext()) {
          // a sequence whose first value is an array, not an array of events
          element = 1;
          throw notAnObject();
        }
        return;
      }
      while (u.hasNext()) {
        element++;
        u = element(u);
      }
    } catch (MessagePackException | IOException e) {
      throw malformed(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    } finally {
      close(u);
    }
  }

  /**
   * One record as a dead letter keeps it (its replay): exactly one map, whose framing {@link
   * MsgpackBounds#check} passed. An array (of maps or not) or another value is {@code
   * not_an_object}, never the events in it; more than one value is {@code malformed_msgpack}.
   */
  void decodeRecord(byte[] body, int length) {
    this.body = body;
    this.length = length;
    base = 0;
    element = 1;
    MessageUnpacker u = MessagePack.newDefaultUnpacker(body, 0, length);
    try {
      if (!u.hasNext()) {
        throw new IngestException.BadRequest("no_events", "the record is empty");
      }
      event(u);
      if (u.hasNext()) {
        throw malformed("a record is one MessagePack value, this one holds more");
      }
    } catch (MessagePackException | IOException e) {
      throw malformed(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    } finally {
      close(u);
    }
  }

  /**
   * One top-level element: an event, or (with dead letters) a dead letter. The framing is known to
   * be sound, so a bad element is skipped whole and reading goes on after it, with a fresh unpacker
   * (returned) where the element ends.
   */
  private MessageUnpacker element(MessageUnpacker u) throws IOException {
    int start = base + (int) u.getTotalReadBytes();
    try {
      event(u);
      return u;
    } catch (IngestException.BadRequest | IngestException.TooLarge e) {
      if (dead == null) {
        throw e;
      }
      int end;
      try (MessageUnpacker skip = MessagePack.newDefaultUnpacker(body, start, length - start)) {
        skip.skipValue();
        end = start + (int) skip.getTotalReadBytes();
      } catch (MessagePackException | IOException broken) {
        throw e;
      }
      if (!dead.add(e.error(), e.detail(), element, body, start, end - start)) {
        throw DecodeBudget.deadLettersFull();
      }
      close(u);
      base = end;
      return MessagePack.newDefaultUnpacker(body, end, length - end);
    }
  }

  private static void close(MessageUnpacker u) {
    try {
      u.close();
    } catch (IOException e) {
      // an unpacker over an array holds nothing to release
    }
  }

  private void event(MessageUnpacker u) throws IOException {
    if (u.getNextFormat().getValueType() != ValueType.MAP) {
      throw notAnObject();
    }
    int pairs = u.unpackMapHeader();
    byte[] key = null;
    long eventMicros = ingestMicros;
    boolean keySeen = false;
    boolean timeSeen = false;
    json.reset();
    json.append('{');
    for (int i = 0; i < pairs; i++) {
      if (i > 0) {
        json.append(',');
      }
      int name = fieldName(u);
      if (!keySeen && (name & KEY) != 0) {
        keySeen = true;
        key = keyValue(u);
      } else if (!timeSeen && (name & TIME) != 0) {
        timeSeen = true;
        eventMicros = timeValue(u);
      } else {
        value(u);
      }
      checkSize();
    }
    json.append('}');
    int len = json.length();
    if (len > maxEventBytes) {
      throw tooLarge(len + " bytes");
    }
    byte[] payload = json.array();
    if (check != null) {
      check.paths().locate(payload, 0, len, checkStart, checkEnd);
      String problem = check.problem(payload, checkStart, checkEnd);
      if (problem != null) {
        throw new IngestException.BadRequest("column_mismatch", where() + ": " + problem);
      }
    }
    out.add(eventMicros, key, payload, 0, len);
  }

  /** Writes a map key and its colon; says whether it names the key or time field. */
  private int fieldName(MessageUnpacker u) throws IOException {
    MessageFormat format = u.getNextFormat();
    byte[] name;
    int from;
    int to;
    switch (format.getValueType()) {
      case STRING -> {
        to = string(u);
        from = 0;
        name = raw;
        json.string(raw, 0, to);
      }
      case INTEGER -> {
        json.append('"');
        from = json.length();
        integer(u);
        to = json.length();
        name = json.array();
        json.append('"');
      }
      default ->
          throw malformed("map keys must be strings or integers, got " + format.getValueType());
    }
    json.append(':');
    return (Arrays.equals(name, from, to, keyField, 0, keyField.length) ? KEY : 0)
        | (Arrays.equals(name, from, to, timeField, 0, timeField.length) ? TIME : 0);
  }

  /** The key field's value, written; its bytes as the event's key (null for nil). */
  private byte[] keyValue(MessageUnpacker u) throws IOException {
    int from = json.length();
    return switch (u.getNextFormat().getValueType()) {
      case NIL -> {
        value(u);
        yield null;
      }
      case STRING -> {
        int n = string(u);
        json.string(raw, 0, n);
        yield Arrays.copyOf(raw, n);
      }
      case INTEGER, FLOAT, BOOLEAN -> {
        value(u);
        yield Arrays.copyOfRange(json.array(), from, json.length());
      }
      default ->
          throw new IngestException.BadRequest(
              "bad_key",
              where() + ": field '" + fields.keyField() + "' must be a string or a number");
    };
  }

  /** The time field's value, written; the event time it gives, epoch microseconds. */
  private long timeValue(MessageUnpacker u) throws IOException {
    try {
      switch (u.getNextFormat().getValueType()) {
        case NIL -> {
          value(u);
          return ingestMicros;
        }
        case STRING -> {
          int n = string(u);
          json.string(raw, 0, n);
          return EventTimes.parseRfc3339(new String(raw, 0, n, StandardCharsets.UTF_8));
        }
        case INTEGER -> {
          if (MsgpackBounds.beyondLong(u, body, length)) {
            throw new IllegalArgumentException(
                u.unpackBigInteger() + " is not a valid epoch milliseconds value");
          }
          long millis = u.unpackLong();
          json.number(millis);
          return EventTimes.fromEpochMillis(millis);
        }
        case EXTENSION -> {
          ExtensionTypeHeader header = u.unpackExtensionTypeHeader();
          if (header.getType() != TIMESTAMP) {
            throw new IllegalArgumentException(TIME_EXPECTED);
          }
          Instant instant = u.unpackTimestamp(header);
          json.asciiString(instant.toString());
          return EventTimes.fromEpochMillis(instant.toEpochMilli())
              + (instant.getNano() / 1000) % 1000;
        }
        default -> throw new IllegalArgumentException(TIME_EXPECTED);
      }
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IngestException.BadRequest(
          "bad_event_time", where() + ": field '" + fields.timeField() + "': " + e.getMessage());
    }
  }

  /** Writes the next value, however deep, as JSON. */
  private void value(MessageUnpacker u) throws IOException {
    switch (u.getNextFormat().getValueType()) {
      case NIL -> {
        u.unpackNil();
        json.ascii("null");
      }
      case BOOLEAN -> json.ascii(u.unpackBoolean() ? "true" : "false");
      case INTEGER -> integer(u);
      case FLOAT -> {
        double d = u.unpackDouble();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          throw malformed("NaN and infinity cannot be represented in JSON");
        }
        json.ascii(Double.toString(d));
      }
      case STRING -> {
        int n = string(u);
        json.string(raw, 0, n);
      }
      case BINARY -> {
        int n = u.unpackBinaryHeader();
        room(JsonText.base64Length(n));
        readPayload(u, n);
        json.base64(raw, 0, n);
      }
      case ARRAY -> {
        int n = u.unpackArrayHeader();
        json.append('[');
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            json.append(',');
          }
          value(u);
          checkSize();
        }
        json.append(']');
      }
      case MAP -> {
        int n = u.unpackMapHeader();
        json.append('{');
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            json.append(',');
          }
          fieldName(u);
          value(u);
          checkSize();
        }
        json.append('}');
      }
      case EXTENSION -> {
        ExtensionTypeHeader header = u.unpackExtensionTypeHeader();
        if (header.getType() != TIMESTAMP) {
          throw malformed("MessagePack extension types other than timestamp are not supported");
        }
        json.asciiString(u.unpackTimestamp(header).toString());
      }
    }
  }

  /** An integer as JSON: a long, or beyond one (a uint64 over 2^63 - 1) a big integer. */
  private void integer(MessageUnpacker u) throws IOException {
    if (MsgpackBounds.beyondLong(u, body, length)) {
      json.ascii(u.unpackBigInteger().toString());
    } else {
      json.number(u.unpackLong());
    }
  }

  /**
   * Reads a string's bytes into {@link #raw}, refusing one the event cannot hold and one that is
   * not valid UTF-8; returns its length.
   */
  private int string(MessageUnpacker u) throws IOException {
    int n = u.unpackRawStringHeader();
    room(n + 2L);
    readPayload(u, n);
    for (int i = 0; i < n; i++) {
      if (raw[i] < 0) {
        checkUtf8(n);
        break;
      }
    }
    return n;
  }

  private void checkUtf8(int n) {
    if (chars.capacity() < n) {
      chars = CharBuffer.allocate(Math.max(n, 2 * chars.capacity()));
    }
    chars.clear();
    utf8.reset();
    if (utf8.decode(ByteBuffer.wrap(raw, 0, n), chars, true).isError()
        || utf8.flush(chars).isError()) {
      throw malformed("a string is not valid UTF-8");
    }
  }

  private void readPayload(MessageUnpacker u, int n) throws IOException {
    if (raw.length < n) {
      raw = new byte[Math.max(n, 2 * raw.length)];
    }
    u.readPayload(raw, 0, n);
  }

  /** Refuses a value of {@code jsonBytes} that would take the event past its limit. */
  private void room(long jsonBytes) {
    if (json.length() + jsonBytes > maxEventBytes) {
      throw tooLarge("more than " + maxEventBytes + " bytes");
    }
  }

  private void checkSize() {
    if (json.length() > maxEventBytes) {
      throw tooLarge("more than " + maxEventBytes + " bytes");
    }
  }

  private String where() {
    return "element " + Math.max(1, element);
  }

  private IngestException tooLarge(String size) {
    return new IngestException.TooLarge(
        where()
            + ": event is "
            + size
            + " as JSON, over the limit of "
            + maxEventBytes
            + " (ingest.max-event-bytes)");
  }

  private IngestException notAnObject() {
    return new IngestException.BadRequest(
        "not_an_object", where() + ": each event must be a MessagePack map");
  }

  private IngestException malformed(String message) {
    return new IngestException.BadRequest("malformed_msgpack", where() + ": " + message);
  }
}
