package io.floe.node.decode;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import io.floe.node.json.EventTimes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueType;

/**
 * Decodes MessagePack: one map, an array of maps, or a sequence of maps. Each map becomes the
 * compact JSON text of the event; binary values become base64 strings and MessagePack timestamps
 * RFC 3339 strings. The framing is checked first ({@link MsgpackBounds}), so no declared length or
 * nesting depth is trusted before the bytes behind it are known to exist.
 */
final class MsgpackEventDecoder {
  private static final JsonFactory JSON = new JsonFactory();

  private final FieldNames fields;
  private final long maxEventBytes;
  private final long ingestMicros;
  private final EventBatch.Builder out;
  private final ByteArrayBuilder json = new ByteArrayBuilder();

  private final EventCheck check;

  MsgpackEventDecoder(
      FieldNames fields,
      long maxEventBytes,
      long ingestMicros,
      EventBatch.Builder out,
      EventCheck check) {
    this.check = check;
    this.fields = fields;
    this.maxEventBytes = maxEventBytes;
    this.ingestMicros = ingestMicros;
    this.out = out;
  }

  void decode(byte[] body, int length) {
    MsgpackBounds.check(body, length);
    int element = 0;
    try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(body, 0, length)) {
      boolean first = true;
      while (unpacker.hasNext()) {
        Value value = unpacker.unpackValue();
        if (first && value.getValueType() == ValueType.ARRAY && !unpacker.hasNext()) {
          for (Value item : value.asArrayValue()) {
            element++;
            addEvent(item, "element " + element);
          }
        } else {
          element++;
          addEvent(value, "element " + element);
        }
        first = false;
      }
    } catch (MessagePackException | IOException e) {
      throw new IngestException.BadRequest(
          "malformed_msgpack",
          "element "
              + (element + 1)
              + ": "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
  }

  private void addEvent(Value value, String where) throws IOException {
    if (value.getValueType() != ValueType.MAP) {
      throw new IngestException.BadRequest(
          "not_an_object", where + ": each event must be a MessagePack map");
    }
    byte[] key = null;
    long eventMicros = ingestMicros;
    json.reset();
    try (JsonGenerator gen = JSON.createGenerator(json, JsonEncoding.UTF8)) {
      gen.writeStartObject();
      boolean keySeen = false;
      boolean timeSeen = false;
      for (Map.Entry<Value, Value> e : value.asMapValue().entrySet()) {
        String name = fieldName(e.getKey(), where);
        Value v = e.getValue();
        if (!keySeen && name.equals(fields.keyField())) {
          keySeen = true;
          key = keyOf(v, where);
        } else if (!timeSeen && name.equals(fields.timeField())) {
          timeSeen = true;
          eventMicros = timeOf(v, where);
        }
        gen.writeFieldName(name);
        writeJson(gen, v, where);
      }
      gen.writeEndObject();
    }
    int len = json.size();
    if (len > maxEventBytes) {
      throw new IngestException.TooLarge(
          where
              + ": event is "
              + len
              + " bytes as JSON, over the limit of "
              + maxEventBytes
              + " (ingest.max-event-bytes)");
    }
    byte[] payload = json.toByteArray();
    if (check != null) {
      int[] start = new int[check.paths().slots()];
      int[] end = new int[start.length];
      check.paths().locate(payload, 0, payload.length, start, end);
      String problem = check.problem(payload, start, end);
      if (problem != null) {
        throw new IngestException.BadRequest("column_mismatch", where + ": " + problem);
      }
    }
    out.add(eventMicros, key, payload, 0, payload.length);
  }

  private static String fieldName(Value k, String where) {
    return switch (k.getValueType()) {
      case STRING -> k.asStringValue().asString();
      case INTEGER -> k.toString();
      default ->
          throw new IngestException.BadRequest(
              "malformed_msgpack",
              where + ": map keys must be strings or integers, got " + k.getValueType());
    };
  }

  private byte[] keyOf(Value v, String where) {
    return switch (v.getValueType()) {
      case NIL -> null;
      case STRING -> v.asStringValue().asByteArray();
      case INTEGER, FLOAT, BOOLEAN -> v.toString().getBytes(StandardCharsets.UTF_8);
      default ->
          throw new IngestException.BadRequest(
              "bad_key",
              where + ": field '" + fields.keyField() + "' must be a string or a number");
    };
  }

  private long timeOf(Value v, String where) {
    try {
      if (v.isTimestampValue()) {
        var instant = v.asTimestampValue().toInstant();
        return EventTimes.fromEpochMillis(instant.toEpochMilli())
            + (instant.getNano() / 1000) % 1000;
      }
      return switch (v.getValueType()) {
        case NIL -> ingestMicros;
        case STRING -> EventTimes.parseRfc3339(v.asStringValue().asString());
        case INTEGER -> {
          if (!v.asIntegerValue().isInLongRange()) {
            throw new IllegalArgumentException(v + " is not a valid epoch milliseconds value");
          }
          yield EventTimes.fromEpochMillis(v.asIntegerValue().toLong());
        }
        default ->
            throw new IllegalArgumentException(
                "expected an RFC 3339 string, integer epoch milliseconds or a MessagePack timestamp");
      };
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IngestException.BadRequest(
          "bad_event_time", where + ": field '" + fields.timeField() + "': " + e.getMessage());
    }
  }

  private static void writeJson(JsonGenerator gen, Value v, String where) throws IOException {
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
          throw new IngestException.BadRequest(
              "malformed_msgpack", where + ": NaN and infinity cannot be represented in JSON");
        }
        gen.writeNumber(d);
      }
      case STRING -> gen.writeString(v.asStringValue().asString());
      case BINARY ->
          gen.writeString(Base64.getEncoder().encodeToString(v.asBinaryValue().asByteArray()));
      case ARRAY -> {
        gen.writeStartArray();
        for (Value item : v.asArrayValue()) {
          writeJson(gen, item, where);
        }
        gen.writeEndArray();
      }
      case MAP -> {
        gen.writeStartObject();
        for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
          gen.writeFieldName(fieldName(e.getKey(), where));
          writeJson(gen, e.getValue(), where);
        }
        gen.writeEndObject();
      }
      case EXTENSION ->
          throw new IngestException.BadRequest(
              "malformed_msgpack",
              where + ": MessagePack extension types other than timestamp are not supported");
    }
  }
}
