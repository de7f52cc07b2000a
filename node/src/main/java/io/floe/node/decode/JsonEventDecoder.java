package io.floe.node.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Decodes NDJSON or a JSON document (one object or an array of objects) with Jackson's streaming
 * parser: no JSON tree is built; only the two top-level fields are read, the rest is validated and
 * skipped, and the event's bytes are copied in compact form.
 */
final class JsonEventDecoder {
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(512).build())
          .build();

  private final FieldNames fields;
  private final long maxEventBytes;
  private final long ingestMicros;
  private final EventBatch.Builder out;
  private byte[] scratch = new byte[1024];

  private byte[] key;
  private long eventMicros;

  JsonEventDecoder(FieldNames fields, long maxEventBytes, long ingestMicros, EventBatch.Builder out) {
    this.fields = fields;
    this.maxEventBytes = maxEventBytes;
    this.ingestMicros = ingestMicros;
    this.out = out;
  }

  /** One JSON object per line; blank lines are ignored. */
  void decodeNdjson(byte[] body, int length) {
    int line = 0;
    int start = 0;
    while (start < length) {
      int end = start;
      while (end < length && body[end] != '\n') {
        end++;
      }
      line++;
      int s = start;
      int e = end;
      while (s < e && isWhitespace(body[s])) {
        s++;
      }
      while (e > s && isWhitespace(body[e - 1])) {
        e--;
      }
      if (s < e) {
        decodeLine(body, s, e - s, line);
      }
      start = end + 1;
    }
  }

  private void decodeLine(byte[] body, int off, int len, int line) {
    String where = "line " + line;
    try (JsonParser p = FACTORY.createParser(body, off, len)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IngestException.BadRequest(
            "not_an_object", where + ": each NDJSON line must be a JSON object");
      }
      readEvent(p, where);
      if (p.nextToken() != null) {
        throw new IngestException.BadRequest(
            "malformed_json", where + ": more than one JSON value on the line");
      }
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      throw new IngestException.BadRequest(
          "malformed_json",
          where + (loc == null ? "" : ", column " + loc.getColumnNr()) + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    add(body, off, len, where);
  }

  /** A single object, or an array of objects. */
  void decodeDocument(byte[] body, int length) {
    try (JsonParser p = FACTORY.createParser(body, 0, length)) {
      JsonToken first = p.nextToken();
      if (first == JsonToken.START_OBJECT) {
        int start = (int) p.currentTokenLocation().getByteOffset();
        readEvent(p, "body");
        int end = (int) p.currentLocation().getByteOffset();
        add(body, start, end - start, "body");
      } else if (first == JsonToken.START_ARRAY) {
        int element = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          element++;
          String where = "element " + element;
          if (t != JsonToken.START_OBJECT) {
            throw new IngestException.BadRequest(
                "not_an_object", where + ": each array element must be a JSON object");
          }
          int start = (int) p.currentTokenLocation().getByteOffset();
          readEvent(p, where);
          int end = (int) p.currentLocation().getByteOffset();
          add(body, start, end - start, where);
        }
      } else if (first != null) {
        throw new IngestException.BadRequest(
            "not_an_object", "body must be a JSON object or an array of JSON objects");
      }
      if (first != null && p.nextToken() != null) {
        throw new IngestException.BadRequest(
            "malformed_json", "unexpected content after the JSON document " + at(p.currentTokenLocation()));
      }
    } catch (JsonProcessingException e) {
      throw new IngestException.BadRequest(
          "malformed_json", e.getOriginalMessage() + " " + at(e.getLocation()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads one object (the parser is on its START_OBJECT) up to its END_OBJECT. */
  private void readEvent(JsonParser p, String where) throws IOException {
    key = null;
    eventMicros = ingestMicros;
    boolean keySeen = false;
    boolean timeSeen = false;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (!keySeen && name.equals(fields.keyField())) {
        keySeen = true;
        key = keyOf(p, value, where);
      } else if (!timeSeen && name.equals(fields.timeField())) {
        timeSeen = true;
        eventMicros = timeOf(p, value, where);
      } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
        p.skipChildren();
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IngestException.BadRequest("malformed_json", where + ": unterminated object");
    }
  }

  private byte[] keyOf(JsonParser p, JsonToken value, String where) throws IOException {
    return switch (value) {
      case VALUE_NULL -> null;
      case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
          p.getText().getBytes(StandardCharsets.UTF_8);
      default -> throw new IngestException.BadRequest(
          "bad_key", where + ": field '" + fields.keyField() + "' must be a string or a number");
    };
  }

  private long timeOf(JsonParser p, JsonToken value, String where) throws IOException {
    try {
      return switch (value) {
        case VALUE_NULL -> ingestMicros;
        case VALUE_STRING -> EventTimes.parseRfc3339(p.getText());
        case VALUE_NUMBER_INT -> {
          if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new IllegalArgumentException(p.getText() + " is not a valid epoch milliseconds value");
          }
          yield EventTimes.fromEpochMillis(p.getLongValue());
        }
        default -> throw new IllegalArgumentException(
            "expected an RFC 3339 string or integer epoch milliseconds");
      };
    } catch (IllegalArgumentException e) {
      throw new IngestException.BadRequest(
          "bad_event_time", where + ": field '" + fields.timeField() + "': " + e.getMessage());
    }
  }

  private void add(byte[] body, int off, int len, String where) {
    byte[] payload = body;
    int payloadOff = off;
    int payloadLen = len;
    if (CompactJson.hasInsignificantWhitespace(body, off, len)) {
      if (scratch.length < len) {
        scratch = new byte[Math.max(len, scratch.length * 2)];
      }
      payload = scratch;
      payloadOff = 0;
      payloadLen = CompactJson.compact(body, off, len, scratch);
    }
    if (payloadLen > maxEventBytes) {
      throw new IngestException.TooLarge(
          where + ": event is " + payloadLen + " bytes, over the limit of " + maxEventBytes
              + " (ingest.max-event-bytes)");
    }
    out.add(eventMicros, key, payload, payloadOff, payloadLen);
  }

  private static String at(JsonLocation loc) {
    return loc == null ? "" : "(line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }
}
