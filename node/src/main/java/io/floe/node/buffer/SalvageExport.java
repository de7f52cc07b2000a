package io.floe.node.buffer;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatchReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.RocksDBException;

/**
 * The operator's way out for events and dead letters a stopped node acknowledged under a claim
 * another process took: writes them as NDJSON, then has the buffer forget them ({@link
 * RocksBuffer#forgetSalvaged}). Used by {@code SalvageMain}; the node must not be running
 * (RocksDB's lock sees to it).
 *
 * <p>One line per event, in sequence order, an object with the fields named by the constants here:
 *
 * <pre>
 * {"stream":"clicks","key":"u1","event_time":"2026-12-01T10:00:00.123456Z",
 *  "ingest_time":"2026-12-01T10:00:01.5Z","buffer":"&lt;uuid&gt;","sequence":42,"payload":{...}}
 * </pre>
 *
 * {@code key} is null for an event without one; the times are RFC 3339 in UTC with microseconds
 * (the event time is the ingest time when the event had no time field); {@code buffer} and {@code
 * sequence} name the event uniquely; {@code payload} is the event exactly as it was stored, always
 * the last field. An event a dead-letter replay wrote carries {@code replay_of} (the replayed dead
 * letter's id, before {@code payload}): the replay was cut short by the lost claim, and re-sending
 * its events would store them twice once the dead letter is replayed again, so the re-send skips
 * them, and the outcome row (a dead letter line whose {@code replay_of} is set) with them.
 *
 * <p>A {@code replayed} outcome row whose events are not in the file (they were committed; the
 * flush commits the events table first) cannot be re-created through the ingest API: its id is left
 * in the buffer ({@link RocksBuffer#replaysToRecord}), and the node records it at its next replay.
 *
 * <p>Then one line per dead letter (a bad record kept under a {@code dead_letter} policy), in
 * sequence order, told from an event by its first field, {@code "kind":"dead_letter"} (an event
 * line has no {@code kind}); its other fields are the dead-letter table's columns of the same
 * names:
 *
 * <pre>
 * {"kind":"dead_letter","stream":"clicks","ingest_time":"2026-12-01T10:00:01.5Z",
 *  "buffer":"&lt;uuid&gt;","sequence":43,"error_code":"malformed_json","error_detail":"...",
 *  "position":2,"content_type":"application/x-ndjson","principal":"shop","request_id":"r-1",
 *  "idempotency_key":"k-1","replay_count":0,"replay_of":null,"raw_truncated":false,
 *  "raw_length":10,"raw":"eyJpZCI6ImEiLA=="}
 * </pre>
 *
 * {@code raw} is the record's bytes as received (after Content-Encoding was undone), in base64 (RFC
 * 4648, with padding): they need not be text. {@code raw_truncated} says they are only the first
 * bytes of a record {@code raw_length} bytes long (cut at {@code dead-letter.max-raw-bytes});
 * {@code position} is the record's line (NDJSON) or element (JSON array, MessagePack), from 1;
 * {@code content_type}, {@code principal} (a token's name), {@code request_id}, {@code
 * idempotency_key} and {@code replay_of} are null when the request had none.
 */
public final class SalvageExport {
  public static final String STREAM = "stream";
  public static final String KEY = "key";
  public static final String EVENT_TIME = "event_time";
  public static final String INGEST_TIME = "ingest_time";
  public static final String BUFFER = "buffer";
  public static final String SEQUENCE = "sequence";
  public static final String PAYLOAD = "payload";

  /** A dead letter's line starts with this field, whose value is {@link #DEAD_LETTER}. */
  public static final String KIND = "kind";

  public static final String DEAD_LETTER = "dead_letter";
  public static final String ERROR_CODE = "error_code";
  public static final String ERROR_DETAIL = "error_detail";
  public static final String POSITION = "position";
  public static final String CONTENT_TYPE = "content_type";
  public static final String PRINCIPAL = "principal";
  public static final String REQUEST_ID = "request_id";
  public static final String IDEMPOTENCY_KEY = "idempotency_key";
  public static final String REPLAY_COUNT = "replay_count";
  public static final String REPLAY_OF = "replay_of";
  public static final String RAW_TRUNCATED = "raw_truncated";
  public static final String RAW_LENGTH = "raw_length";
  public static final String RAW = "raw";

  private static final JsonFactory JSON =
      JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

  private SalvageExport() {}

  /**
   * What {@link #write} wrote; {@code replaysToRecord}: the dead letters whose replay's events were
   * committed and whose outcome row was salvaged, which this buffer's node records as replayed at
   * its next replay ({@link RocksBuffer#replaysToRecord}).
   */
  public record Written(long events, long deadLetters, List<String> replaysToRecord) {}

  /**
   * A replay's outcome row found among the salvaged dead letters: which dead letter it is of,
   * whether it says the dead letter became events, and whether those events are salvaged too (else
   * they were committed: the same write's events reach their table first).
   */
  private static final class Outcome {
    private final String replayOf;
    private final boolean replayed;
    private boolean eventsSalvaged;

    Outcome(String replayOf, boolean replayed) {
      this.replayOf = replayOf;
      this.replayed = replayed;
    }

    String replayOf() {
      return replayOf;
    }

    boolean replayed() {
      return replayed;
    }

    boolean eventsSalvaged() {
      return eventsSalvaged;
    }
  }

  /**
   * The replay outcome rows (dead letters with a {@code replay_of}) above {@code after}, by their
   * sequence: a replay writes its events at {@code s .. s+n-1} and its outcome at {@code s+n}, in
   * one write, so the event batch that ends just below an outcome is that replay's events.
   */
  private static Map<Long, Outcome> replayOutcomes(RocksBuffer buffer, long after)
      throws RocksDBException {
    Map<Long, Outcome> outcomes = new TreeMap<>(); // in sequence order
    buffer.forEachDeadLetters(
        after,
        (first, batch) -> {
          String of = batch.context().replayOf();
          if (of != null && !of.isEmpty()) {
            boolean replayed =
                batch.records().stream().allMatch(r -> DeadLetterBatch.REPLAYED.equals(r.code()));
            outcomes.put(first, new Outcome(of, replayed));
          }
          return true;
        });
    return outcomes;
  }

  /**
   * Writes the events and the dead letters of {@code buffer} awaiting salvage to {@code out}, then
   * empties what was written from the buffer (what lies at or below a salvage mark was committed
   * under the old claim) and forgets the claims they were acknowledged under, so that the next
   * start claims the partition afresh. Nothing is forgotten when writing fails.
   */
  public static Written write(RocksBuffer buffer, OutputStream out)
      throws RocksDBException, IOException {
    synchronized (buffer) {
      long after = buffer.salvageAfter();
      long deadAfter = buffer.deadSalvageAfter();
      if (after < 0 && deadAfter < 0) {
        return new Written(0, 0, List.of());
      }
      long events = 0;
      long deadLetters = 0;
      Map<Long, Outcome> outcomes =
          deadAfter >= 0 ? replayOutcomes(buffer, deadAfter) : new TreeMap<>();
      try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
        json.setRootValueSeparator(null);
        if (after >= 0) {
          events = writeEvents(buffer, after, outcomes, json);
        }
        if (deadAfter >= 0) {
          deadLetters = writeDeadLetters(buffer, deadAfter, json);
        }
      }
      out.flush();
      List<String> toRecord = new ArrayList<>();
      for (Outcome o : outcomes.values()) {
        if (o.replayed() && !o.eventsSalvaged()) {
          toRecord.add(o.replayOf());
        }
      }
      buffer.forgetSalvaged(after, deadAfter, toRecord);
      return new Written(events, deadLetters, List.copyOf(toRecord));
    }
  }

  private static long writeEvents(
      RocksBuffer buffer, long after, Map<Long, Outcome> outcomes, JsonGenerator json)
      throws RocksDBException, IOException {
    long[] events = {0};
    try {
      buffer.forEachBatch(
          after,
          (first, batch) -> {
            EventBatchReader reader = batch.reader();
            String ingestTime = rfc3339(batch.ingestTimeMicros());
            Outcome outcome = outcomes.get(first + batch.count());
            if (outcome != null) {
              outcome.eventsSalvaged = true;
            }
            try {
              while (reader.next()) {
                json.writeStartObject();
                json.writeStringField(STREAM, batch.stream());
                json.writeStringField(KEY, reader.key());
                json.writeStringField(EVENT_TIME, rfc3339(reader.eventTimeMicros()));
                json.writeStringField(INGEST_TIME, ingestTime);
                json.writeStringField(BUFFER, buffer.bufferId());
                json.writeNumberField(SEQUENCE, first + reader.index());
                if (outcome != null) {
                  json.writeStringField(REPLAY_OF, outcome.replayOf());
                }
                json.writeFieldName(PAYLOAD);
                json.writeRawValue(reader.payload());
                json.writeEndObject();
                json.writeRaw('\n');
                events[0]++;
              }
              return true;
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return events[0];
  }

  private static long writeDeadLetters(RocksBuffer buffer, long after, JsonGenerator json)
      throws RocksDBException, IOException {
    long[] written = {0};
    try {
      buffer.forEachDeadLetters(
          after,
          (first, batch) -> {
            DeadLetterBatch.Context c = batch.context();
            String ingestTime = rfc3339(c.ingestTimeMicros());
            try {
              for (int i = 0; i < batch.count(); i++) {
                DeadLetterBatch.Record r = batch.records().get(i);
                json.writeStartObject();
                json.writeStringField(KIND, DEAD_LETTER);
                json.writeStringField(STREAM, c.stream());
                json.writeStringField(INGEST_TIME, ingestTime);
                json.writeStringField(BUFFER, buffer.bufferId());
                json.writeNumberField(SEQUENCE, first + i);
                json.writeStringField(ERROR_CODE, r.code());
                json.writeStringField(ERROR_DETAIL, orNull(r.detail()));
                json.writeNumberField(POSITION, r.position());
                json.writeStringField(CONTENT_TYPE, orNull(c.contentType()));
                json.writeStringField(PRINCIPAL, orNull(c.principal()));
                json.writeStringField(REQUEST_ID, orNull(c.requestId()));
                json.writeStringField(IDEMPOTENCY_KEY, orNull(c.idempotencyKey()));
                json.writeNumberField(REPLAY_COUNT, c.replayCount());
                json.writeStringField(REPLAY_OF, orNull(c.replayOf()));
                json.writeBooleanField(RAW_TRUNCATED, r.truncated());
                json.writeNumberField(RAW_LENGTH, r.originalLength());
                json.writeStringField(RAW, Base64.getEncoder().encodeToString(r.raw()));
                json.writeEndObject();
                json.writeRaw('\n');
                written[0]++;
              }
              return true;
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return written[0];
  }

  /** A context string as the table keeps it: null for none (stored as ""). */
  private static String orNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** Epoch microseconds as RFC 3339 in UTC, e.g. {@code 2026-12-01T10:00:00.123456Z}. */
  static String rfc3339(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS).toString();
  }
}
