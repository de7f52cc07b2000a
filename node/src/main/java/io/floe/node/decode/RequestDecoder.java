package io.floe.node.decode;

import io.floe.catalog.table.EventsTable;
import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.json.EventTimes;
import java.util.Locale;

/**
 * Turns one ingestion request (stream, media type, encoding, body) into an {@link EventBatch}, or
 * refuses it with an {@link IngestException} that says what is wrong. Stateless and thread-safe.
 */
public final class RequestDecoder {
  private final long maxDecodedBytes;
  private final long maxEventBytes;

  public RequestDecoder(long maxDecodedBytes, long maxEventBytes) {
    this.maxDecodedBytes = maxDecodedBytes;
    this.maxEventBytes = maxEventBytes;
  }

  /** The body formats the API accepts. */
  public enum Format {
    NDJSON,
    JSON,
    MSGPACK
  }

  /** Checks a stream name. */
  public static void checkStream(String stream) {
    if (stream == null || !EventsTable.STREAM_NAME.matcher(stream).matches()) {
      throw new IngestException.BadRequest(
          "bad_stream",
          "stream name '"
              + EventTimes.abbreviate(String.valueOf(stream))
              + "' is invalid: "
              + EventsTable.STREAM_NAME_RULE);
    }
  }

  /** The format for a Content-Type header value, or a 415 refusal. */
  public static Format format(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new IngestException.UnsupportedMedia(
          "Content-Type is missing; use application/x-ndjson, application/json or application/msgpack");
    }
    int semi = contentType.indexOf(';');
    String mime =
        (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    return switch (mime) {
      case "application/x-ndjson",
          "application/ndjson",
          "application/jsonl",
          "application/x-jsonlines" ->
          Format.NDJSON;
      case "application/json" -> Format.JSON;
      case "application/msgpack", "application/x-msgpack", "application/vnd.msgpack" ->
          Format.MSGPACK;
      default ->
          throw new IngestException.UnsupportedMedia(
              "Content-Type '"
                  + contentType
                  + "' is not supported; use application/x-ndjson, application/json or application/msgpack");
    };
  }

  /**
   * Decodes a whole request body.
   *
   * @param ingestMicros the node's acceptance time, used when an event has no time field
   */
  public EventBatch decode(
      String stream,
      Format format,
      String contentEncoding,
      byte[] body,
      int length,
      FieldNames fields,
      long ingestMicros) {
    return decode(
        stream,
        format,
        contentEncoding,
        body,
        length,
        fields,
        ingestMicros,
        DecodeBudget.UNLIMITED,
        null,
        null);
  }

  /**
   * As above, reserving every buffer it allocates in {@code budget} first, and with {@code check}
   * (null: none) run on each event before it is added: the first event it refuses refuses the
   * request ({@code column_mismatch}, naming the line or element). With {@code dead} (null: none) a
   * record the stream cannot take is kept there instead and the rest of the request is read on: a
   * request may then hold no events.
   */
  public EventBatch decode(
      String stream,
      Format format,
      String contentEncoding,
      byte[] body,
      int length,
      FieldNames fields,
      long ingestMicros,
      DecodeBudget budget,
      EventCheck check,
      DeadLetterBatch.Builder dead) {
    checkStream(stream);
    Decompression.Decoded decoded =
        Decompression.decode(contentEncoding, body, length, maxDecodedBytes, budget);
    long bound =
        format == Format.MSGPACK
            // MessagePack can spell shorter than its JSON: the framing check bounds the batch
            ? MsgpackBounds.check(decoded.bytes(), decoded.length(), maxEventBytes)
            : decoded.length() + decoded.length() / 4;
    int capacity = (int) Math.min(Integer.MAX_VALUE - 64, bound + 64);
    Decompression.reserve(budget, capacity);
    // the batch's buffer is reserved as it is allocated: here, and at each (doubling) growth, for
    // events that take more in the batch than in the body ({} takes 12 bytes for its 3)
    EventBatch.Builder builder =
        new EventBatch.Builder(
            stream, ingestMicros, capacity, more -> Decompression.reserve(budget, more));
    switch (format) {
      case NDJSON ->
          new JsonEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, dead)
              .decodeNdjson(decoded.bytes(), decoded.length());
      case JSON ->
          new JsonEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, dead)
              .decodeDocument(decoded.bytes(), decoded.length());
      case MSGPACK ->
          new MsgpackEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, dead)
              .decode(decoded.bytes(), decoded.length());
    }
    if (builder.count() == 0 && (dead == null || dead.count() == 0)) {
      throw new IngestException.BadRequest("no_events", "the request holds no events");
    }
    return builder.build();
  }

  /**
   * Decodes one record as a dead letter keeps it (its raw bytes, as received after decompression),
   * for its replay: exactly one event, from exactly one JSON object (one line for NDJSON) or one
   * MessagePack map. Anything else (an array element that is itself an array, a scalar, more than
   * one value) is refused with an {@link IngestException} and its code, as the normal path refuses
   * such a record, never decoded as a whole request whose elements would become events. {@code
   * check} (null: none) is run on the event: its refusal is a {@code column_mismatch}.
   */
  public EventBatch decodeRecord(
      String stream,
      Format format,
      byte[] raw,
      int length,
      FieldNames fields,
      long ingestMicros,
      EventCheck check) {
    checkStream(stream);
    if (format == Format.MSGPACK) {
      MsgpackBounds.check(raw, length, maxEventBytes);
    }
    EventBatch.Builder builder = new EventBatch.Builder(stream, ingestMicros, length + 64);
    switch (format) {
      case NDJSON ->
          new JsonEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, null)
              .decodeRecord(raw, length, true);
      case JSON ->
          new JsonEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, null)
              .decodeRecord(raw, length, false);
      case MSGPACK ->
          new MsgpackEventDecoder(fields, maxEventBytes, ingestMicros, builder, check, null)
              .decodeRecord(raw, length);
    }
    return builder.build();
  }
}
