package io.floe.node.decode;

import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.json.EventTimes;
import io.floe.node.json.FieldPaths;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes NDJSON or a JSON document (one object or an array of objects) into events in a single
 * pass: {@link JsonScanner} validates every byte; this class finds the events, reads the two
 * top-level fields it needs (the key and the event time, by configurable names), and copies each
 * event's bytes as they are (or without the whitespace between tokens, when it has any). No JSON
 * tree, no token objects, no strings except for the key and the time.
 */
final class JsonEventDecoder {
  private final JsonScanner s = new JsonScanner();
  private final byte[] keyField;
  private final byte[] timeField;
  private final String keyFieldName;
  private final String timeFieldName;
  private final long maxEventBytes;
  private final long ingestMicros;
  private final EventBatch.Builder out;
  private final EventCheck check;

  /** Where a record the request cannot take goes; null: the request is refused. */
  private final DeadLetterBatch.Builder dead;

  /** Where the check's paths are in the event being read (input offsets), -1 when absent. */
  private final int[] pathStart;

  private final int[] pathEnd;
  private byte[] scratch = new byte[1024];

  /** The code of broken JSON ({@link JsonScanner#malformed}). */
  private static final String MALFORMED = "malformed_json";

  private byte[] key;
  private long eventMicros;

  JsonEventDecoder(
      FieldNames fields,
      long maxEventBytes,
      long ingestMicros,
      EventBatch.Builder out,
      EventCheck check,
      DeadLetterBatch.Builder dead) {
    this.check = check;
    this.dead = dead;
    this.pathStart = check == null ? null : new int[check.paths().slots()];
    this.pathEnd = check == null ? null : new int[check.paths().slots()];
    this.keyFieldName = fields.keyField();
    this.timeFieldName = fields.timeField();
    this.keyField = keyFieldName.getBytes(StandardCharsets.UTF_8);
    this.timeField = timeFieldName.getBytes(StandardCharsets.UTF_8);
    this.maxEventBytes = maxEventBytes;
    this.ingestMicros = ingestMicros;
    this.out = out;
  }

  /** One JSON object per line; blank lines are ignored; a line may end in CR LF. */
  void decodeNdjson(byte[] body, int length) {
    s.reset(body, length, true);
    int line = 0;
    while (!s.atEnd()) {
      line++;
      s.markLineStart();
      s.skipLineSpace();
      if (s.atEnd()) {
        break;
      }
      if (s.current() == '\n') {
        s.advance();
        continue;
      }
      s.event(line);
      int lineStart = s.offset();
      try {
        ndjsonEvent();
      } catch (IngestException.BadRequest | IngestException.TooLarge e) {
        if (dead == null) {
          throw e;
        }
        // a newline ends every NDJSON record, also a broken one: resume after it
        int stop = lineStart;
        while (stop < length && body[stop] != '\n') {
          stop++;
        }
        int rawStop = stop > lineStart && body[stop - 1] == '\r' ? stop - 1 : stop;
        if (!dead.add(e.error(), e.detail(), line, body, lineStart, rawStop - lineStart)) {
          throw DecodeBudget.deadLettersFull();
        }
        s.seek(Math.min(length, stop + 1));
      }
    }
  }

  /** The NDJSON event that starts at the scanner's offset, and the rest of its line. */
  private void ndjsonEvent() {
    if (s.current() != '{') {
      throw JsonScanner.startsValue(s.current())
          ? new IngestException.BadRequest(
              "not_an_object", s.where() + ": each NDJSON line must be a JSON object")
          : s.malformed("expected '{' but found " + s.describe(s.offset()));
    }
    int start = s.offset();
    readEvent();
    int stop = s.offset();
    s.skipLineSpace();
    if (!s.atEnd() && s.current() != '\n') {
      throw JsonScanner.startsValue(s.current())
          ? s.malformedLine("more than one JSON value on the line")
          : s.malformed("unexpected " + s.describe(s.offset()) + " after the event");
    }
    s.advance();
    add(start, stop - start);
  }

  /** A single object, or an array of objects. */
  void decodeDocument(byte[] body, int length) {
    s.reset(body, length, false);
    s.skipSpace();
    if (s.atEnd()) {
      return;
    }
    if (s.current() == '{') {
      s.event(1);
      element(s.offset());
    } else if (s.current() == '[') {
      s.advance();
      s.skipSpace();
      if (!s.atEnd() && s.current() == ']') {
        s.advance();
      } else {
        while (true) {
          s.event(s.event() + 1);
          s.skipSpace();
          if (s.atEnd()) {
            throw s.malformed("unexpected end of input inside the array");
          }
          if (!JsonScanner.startsValue(s.current())) {
            throw s.malformed("expected '{' but found " + s.describe(s.offset()));
          }
          element(s.offset());
          s.skipSpace();
          if (!s.atEnd() && s.current() == ',') {
            s.advance();
          } else if (!s.atEnd() && s.current() == ']') {
            s.advance();
            break;
          } else {
            throw s.malformed("expected ',' or ']' but found " + s.describe(s.offset()));
          }
        }
      }
    } else if (JsonScanner.startsValue(s.current())) {
      throw new IngestException.BadRequest(
          "not_an_object", "body must be a JSON object or an array of JSON objects");
    } else {
      throw s.malformed("expected '{' or '[' but found " + s.describe(s.offset()));
    }
    s.event(0);
    s.skipSpace();
    if (!s.atEnd()) {
      throw new IngestException.BadRequest(
          "malformed_json", "unexpected content after the JSON document " + s.location(s.offset()));
    }
  }

  /**
   * One record as a dead letter keeps it (its replay): exactly one JSON object, with only
   * whitespace around it; {@code ndjson}: on one line, as an NDJSON line must be. Anything else is
   * refused with its code, as the normal path refuses such a record: an array (of objects or not)
   * or another value is {@code not_an_object}, never the events of a document; more than one value
   * is {@code malformed_json}.
   */
  void decodeRecord(byte[] body, int length, boolean ndjson) {
    s.reset(body, length, ndjson);
    s.event(1);
    s.markLineStart();
    s.skipSpace();
    if (s.atEnd()) {
      throw new IngestException.BadRequest("no_events", "the record is empty");
    }
    if (s.current() != '{') {
      throw JsonScanner.startsValue(s.current())
          ? new IngestException.BadRequest(
              "not_an_object",
              "a record must be one JSON object, not "
                  + (s.current() == '[' ? "an array" : "another value")
                  + " (an array element is replayed as itself, never as the events in it)")
          : s.malformed("expected '{' but found " + s.describe(s.offset()));
    }
    if (ndjson) {
      ndjsonEvent();
      s.skipSpace();
      if (!s.atEnd()) {
        throw s.malformedLine("a record is one NDJSON line, this one holds more");
      }
      return;
    }
    int start = s.offset();
    readEvent();
    int stop = s.offset();
    s.skipSpace();
    if (!s.atEnd()) {
      throw new IngestException.BadRequest(
          "malformed_json",
          "unexpected content after the record's object " + s.location(s.offset()));
    }
    add(start, stop - start);
  }

  /**
   * A JSON document's element that starts at {@code start}: an event, or a dead letter when it is
   * well-formed JSON but not an event the stream can take. Broken JSON refuses the request: no
   * record boundary is known after it.
   */
  private void element(int start) {
    try {
      if (s.current() != '{') {
        throw new IngestException.BadRequest(
            "not_an_object", s.where() + ": each array element must be a JSON object");
      }
      readEvent();
      add(start, s.offset() - start);
    } catch (IngestException.BadRequest | IngestException.TooLarge e) {
      if (dead == null || e.error().equals(MALFORMED)) {
        throw e;
      }
      s.seek(start);
      s.skipValue(0);
      if (!dead.add(e.error(), e.detail(), s.event(), s.input(), start, s.offset() - start)) {
        throw DecodeBudget.deadLettersFull();
      }
    }
  }

  /** One top-level object: the scanner is on its '{' and ends after its '}'. */
  private void readEvent() {
    key = null;
    eventMicros = ingestMicros;
    s.clearSpaced();
    boolean keySeen = false;
    boolean timeSeen = false;
    FieldPaths.Level paths = null;
    if (check != null) {
      Arrays.fill(pathStart, -1);
      paths = check.paths().root();
    }
    if (!s.opens('}')) {
      return;
    }
    while (true) {
      int nameStart = s.offset() + 1;
      boolean escaped = s.memberName();
      int nameEnd = s.offset() - 1;
      s.colon();
      int member = paths == null ? -1 : paths.find(s.input(), nameStart, nameEnd, escaped);
      int valueStart = s.offset();
      if (!keySeen && s.nameIs(keyField, keyFieldName, nameStart, nameEnd, escaped)) {
        keySeen = true;
        key = keyValue();
        recordPath(paths, member, valueStart);
      } else if (!timeSeen && s.nameIs(timeField, timeFieldName, nameStart, nameEnd, escaped)) {
        timeSeen = true;
        eventMicros = timeValue();
        recordPath(paths, member, valueStart);
      } else {
        pathValue(paths, member, 1);
      }
      if (!s.another('}')) {
        return;
      }
    }
  }

  /**
   * An object on a check's path: validated as {@link JsonScanner#skipObject} does, recording the
   * paths in it.
   */
  private void pathObject(FieldPaths.Level level, int depth) {
    s.checkDepth(depth);
    if (!s.opens('}')) {
      return;
    }
    while (true) {
      int nameStart = s.offset() + 1;
      boolean escaped = s.memberName();
      int nameEnd = s.offset() - 1;
      s.colon();
      pathValue(level, level.find(s.input(), nameStart, nameEnd, escaped), depth);
      if (!s.another('}')) {
        return;
      }
    }
  }

  /**
   * The value of {@code member} of an object at {@code level} of the check's paths (-1, or no
   * level: on no path), in a container at {@code depth}: skipped, or entered when a path goes
   * deeper, and recorded when a path ends there.
   */
  private void pathValue(FieldPaths.Level level, int member, int depth) {
    int valueStart = s.offset();
    FieldPaths.Level child = member < 0 ? null : level.child(member);
    if (child != null && s.peek() == '{') {
      pathObject(child, depth + 1);
    } else {
      s.skipValue(depth);
    }
    recordPath(level, member, valueStart);
  }

  /**
   * Records where the value just read began and ended, when a path ends at it (its first
   * occurrence).
   */
  private void recordPath(FieldPaths.Level level, int member, int valueStart) {
    int slot = member < 0 ? -1 : level.slot(member);
    if (slot >= 0 && pathStart[slot] < 0) {
      pathStart[slot] = valueStart;
      pathEnd[slot] = s.offset();
    }
  }

  private byte[] keyValue() {
    int start = s.offset();
    switch (s.peek()) {
      case 'n' -> {
        s.literal("null");
        return null;
      }
      case '"' -> {
        boolean escaped = s.skipString();
        return escaped
            ? s.unescape(start + 1, s.offset() - 1).getBytes(StandardCharsets.UTF_8)
            : s.slice(start + 1, s.offset() - 1);
      }
      case 't' -> s.literal("true");
      case 'f' -> s.literal("false");
      case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> s.number();
      default -> {
        if (s.peek() == '{' || s.peek() == '[') {
          throw new IngestException.BadRequest(
              "bad_key", s.where() + ": field '" + keyFieldName + "' must be a string or a number");
        }
        throw s.malformed("expected a value but found " + s.describe(s.offset()));
      }
    }
    return s.slice(start, s.offset());
  }

  private long timeValue() {
    int start = s.offset();
    byte b = s.peek();
    try {
      if (b == 'n') {
        s.literal("null");
        return ingestMicros;
      }
      if (b == '"') {
        boolean escaped = s.skipString();
        return escaped
            ? EventTimes.parseRfc3339(s.unescape(start + 1, s.offset() - 1))
            : EventTimes.parseRfc3339(s.input(), start + 1, s.offset() - 1);
      }
      if (b == '-' || (b >= '0' && b <= '9')) {
        boolean integral = s.number();
        if (!integral) {
          throw new IllegalArgumentException(
              "expected an RFC 3339 string or integer epoch milliseconds");
        }
        String text = s.text(start, s.offset(), StandardCharsets.US_ASCII);
        long millis;
        try {
          millis = Long.parseLong(text);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(text + " is not a valid epoch milliseconds value");
        }
        return EventTimes.fromEpochMillis(millis);
      }
      if (JsonScanner.startsValue(b)) {
        throw new IllegalArgumentException(
            "expected an RFC 3339 string or integer epoch milliseconds");
      }
    } catch (IllegalArgumentException e) {
      throw new IngestException.BadRequest(
          "bad_event_time", s.where() + ": field '" + timeFieldName + "': " + e.getMessage());
    }
    throw s.malformed("expected a value but found " + s.describe(s.offset()));
  }

  private void add(int off, int len) {
    byte[] payload = s.input();
    int payloadOff = off;
    int payloadLen = len;
    if (s.spaced()) {
      if (scratch.length < len) {
        scratch = new byte[Math.max(len, scratch.length * 2)];
      }
      payload = scratch;
      payloadOff = 0;
      payloadLen = CompactJson.compact(s.input(), off, len, scratch);
    }
    if (payloadLen > maxEventBytes) {
      throw new IngestException.TooLarge(
          s.where()
              + ": event is "
              + payloadLen
              + " bytes, over the limit of "
              + maxEventBytes
              + " (ingest.max-event-bytes)");
    }
    if (check != null) {
      // the spans are offsets in the input, which compaction only copied from
      String problem = check.problem(s.input(), pathStart, pathEnd);
      if (problem != null) {
        throw new IngestException.BadRequest("column_mismatch", s.where() + ": " + problem);
      }
    }
    out.add(eventMicros, key, payload, payloadOff, payloadLen);
  }
}
