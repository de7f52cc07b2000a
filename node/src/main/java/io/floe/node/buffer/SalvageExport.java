package io.floe.node.buffer;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.floe.node.event.EventBatchReader;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.rocksdb.RocksDBException;

/**
 * The operator's way out for events a stopped node acknowledged under a claim another process took:
 * writes them as NDJSON, then has the buffer forget them ({@link RocksBuffer#forgetSalvaged}). Used
 * by {@code SalvageMain}; the node must not be running (RocksDB's lock sees to it).
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
 * the last field.
 */
public final class SalvageExport {
  public static final String STREAM = "stream";
  public static final String KEY = "key";
  public static final String EVENT_TIME = "event_time";
  public static final String INGEST_TIME = "ingest_time";
  public static final String BUFFER = "buffer";
  public static final String SEQUENCE = "sequence";
  public static final String PAYLOAD = "payload";

  private static final JsonFactory JSON =
      JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

  private SalvageExport() {}

  /**
   * Writes the events of {@code buffer} awaiting salvage to {@code out}, then empties the buffer
   * (what lies at or below the salvage mark was committed under the old claim) and forgets that
   * claim, so that the next start claims the partition afresh. Nothing is forgotten when writing
   * fails.
   *
   * @return the number of events written
   */
  public static long write(RocksBuffer buffer, OutputStream out)
      throws RocksDBException, IOException {
    synchronized (buffer) {
      long after = buffer.salvageAfter();
      if (after < 0) {
        return 0;
      }
      long[] events = {0};
      IOException[] failure = {null};
      try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
        json.setRootValueSeparator(null);
        buffer.forEachBatch(
            after,
            (first, batch) -> {
              EventBatchReader reader = batch.reader();
              String ingestTime = rfc3339(batch.ingestTimeMicros());
              try {
                while (reader.next()) {
                  json.writeStartObject();
                  json.writeStringField(STREAM, batch.stream());
                  json.writeStringField(KEY, reader.key());
                  json.writeStringField(EVENT_TIME, rfc3339(reader.eventTimeMicros()));
                  json.writeStringField(INGEST_TIME, ingestTime);
                  json.writeStringField(BUFFER, buffer.bufferId());
                  json.writeNumberField(SEQUENCE, first + reader.index());
                  json.writeFieldName(PAYLOAD);
                  json.writeRawValue(reader.payload());
                  json.writeEndObject();
                  json.writeRaw('\n');
                  events[0]++;
                }
                return true;
              } catch (IOException e) {
                failure[0] = e;
                return false;
              }
            });
        if (failure[0] != null) {
          throw failure[0];
        }
      }
      out.flush();
      buffer.forgetSalvaged(after);
      return events[0];
    }
  }

  /** Epoch microseconds as RFC 3339 in UTC, e.g. {@code 2026-12-01T10:00:00.123456Z}. */
  static String rfc3339(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS).toString();
  }
}
