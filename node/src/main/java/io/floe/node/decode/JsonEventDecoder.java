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
  /** Line (NDJSON) or element (array) number of the event being read; error messages only. */
  private int position;
  private boolean lines;

  JsonEventDecoder(FieldNames fields, long maxEventBytes, long ingestMicros, EventBatch.Builder out) {
    this.fields = fields;
    this.maxEventBytes = maxEventBytes;
    this.ingestMicros = ingestMicros;
    this.out = out;
  }

  /**
   * One JSON object per line; blank lines are ignored. One streaming parser runs over the whole
   * body (no per-line parser, no separate scan for line ends); its locations give each event's
   * bytes and line number.
   */
  void decodeNdjson(byte[] body, int length) {
    lines = true;
    int lastEndLine = 0;
    try (JsonParser p = FACTORY.createParser(body, 0, length)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        JsonLocation begin = p.currentTokenLocation();
        position = begin.getLineNr();
        if (position == lastEndLine) {
          throw new IngestException.BadRequest("malformed_json", where() + ": more than one JSON value on the line");
        }
        if (t != JsonToken.START_OBJECT) {
          throw new IngestException.BadRequest("not_an_object", where() + ": each NDJSON line must be a JSON object");
        }
        int start = (int) begin.getByteOffset();
        readEvent(p);
        JsonLocation after = p.currentLocation();
        lastEndLine = after.getLineNr();
        if (lastEndLine != position) {
          throw new IngestException.BadRequest("malformed_json", where() + ": the event does not end on its line");
        }
        add(body, start, (int) after.getByteOffset() - start);
        position = 0;
      }
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      String at;
      if (loc == null) {
        at = where();
      } else if (position > 0 && loc.getLineNr() > position) {
        at = where() + " (the event does not end on its line)"; // an NDJSON event is one line
      } else {
        at = "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      }
      throw new IngestException.BadRequest("malformed_json", at + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A single object, or an array of objects. */
  void decodeDocument(byte[] body, int length) {
    try (JsonParser p = FACTORY.createParser(body, 0, length)) {
      JsonToken first = p.nextToken();
      if (first == JsonToken.START_OBJECT) {
        position = 1;
        int start = (int) p.currentTokenLocation().getByteOffset();
        readEvent(p);
        int end = (int) p.currentLocation().getByteOffset();
        add(body, start, end - start);
      } else if (first == JsonToken.START_ARRAY) {
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          position++;
          if (t != JsonToken.START_OBJECT) {
            throw new IngestException.BadRequest(
                "not_an_object", where() + ": each array element must be a JSON object");
          }
          int start = (int) p.currentTokenLocation().getByteOffset();
          readEvent(p);
          int end = (int) p.currentLocation().getByteOffset();
          add(body, start, end - start);
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
  private void readEvent(JsonParser p) throws IOException {
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
        key = keyOf(p, value);
      } else if (!timeSeen && name.equals(fields.timeField())) {
        timeSeen = true;
        eventMicros = timeOf(p, value);
      } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
        p.skipChildren();
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IngestException.BadRequest("malformed_json", where() + ": unterminated object");
    }
  }

  private byte[] keyOf(JsonParser p, JsonToken value) throws IOException {
    return switch (value) {
      case VALUE_NULL -> null;
      case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
          p.getText().getBytes(StandardCharsets.UTF_8);
      default -> throw new IngestException.BadRequest(
          "bad_key", where() + ": field '" + fields.keyField() + "' must be a string or a number");
    };
  }

  private long timeOf(JsonParser p, JsonToken value) throws IOException {
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
          "bad_event_time", where() + ": field '" + fields.timeField() + "': " + e.getMessage());
    }
  }

  private String where() {
    return (lines ? "line " : "element ") + position;
  }

  private void add(byte[] body, int off, int len) {
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
          where() + ": event is " + payloadLen + " bytes, over the limit of " + maxEventBytes
              + " (ingest.max-event-bytes)");
    }
    out.add(eventMicros, key, payload, payloadOff, payloadLen);
  }

  private static String at(JsonLocation loc) {
    return loc == null ? "" : "(line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }
}
