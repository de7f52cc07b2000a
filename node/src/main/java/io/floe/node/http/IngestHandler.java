package io.floe.node.http;

import io.floe.catalog.streams.OnError;
import io.floe.catalog.streams.StreamPolicies;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.JsonResponses;
import io.floe.node.buffer.Appended;
import io.floe.node.buffer.DeadLetters;
import io.floe.node.buffer.GroupCommitter;
import io.floe.node.buffer.IdempotencyKey;
import io.floe.node.columns.ColumnSet;
import io.floe.node.config.NodeConfig;
import io.floe.node.decode.DecodeBudget;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * {@code POST /v1/streams/{stream}/events}. {@link #admit} runs before the body is read and refuses
 * what can be refused from the headers; {@link #ingest} reads and decodes the body on the event
 * loop, hands the batch to the group committer and answers once it is durable. Failures go to the
 * routing context's failure handler ({@link ErrorResponses}).
 */
public final class IngestHandler {
  /** The body format {@link #admit} read from Content-Type, for {@link #ingest}. */
  private static final String FORMAT = "floe.format";

  /** The request's in-flight reservation, made by {@link #admit}, grown while decoding. */
  private static final String RESERVATION = "floe.reservation";

  /** The validated Idempotency-Key header {@link #admit} read, for {@link #ingest}. */
  private static final String IDEMPOTENCY_KEY = "floe.idempotency-key";

  /** Whether this request keeps its bad records as dead letters (resolved by {@link #admit}). */
  private static final String DEAD_LETTER = "floe.dead-letter";

  /**
   * A refusal {@link #admit} found in the headers of a request with an Idempotency-Key, answered
   * only once the body shows that the key does not name an acknowledged request.
   */
  private static final String REFUSAL = "floe.refusal";

  private static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
  private static final int MAX_REQUEST_ID_LENGTH = 128;

  /** Reasons an answer lists (the rest are in the dead-letter table). */
  static final int MAX_REASONS = 5;

  private static final int MAX_REASON_DETAIL_CHARS = 200;
  private final int partitionId;
  private final NodeConfig.IngestLimits limits;
  private final RequestDecoder decoder;
  private final GroupCommitter committer;
  private final InflightBudget budget;
  private final NodeMetrics metrics;
  private final Readiness readiness;
  private final ScopedAuth auth;
  private final Supplier<ColumnSet> columns;
  private final Supplier<StreamPolicies> policies;

  public IngestHandler(
      NodeConfig config,
      GroupCommitter committer,
      InflightBudget budget,
      NodeMetrics metrics,
      Readiness readiness,
      ScopedAuth auth,
      Supplier<ColumnSet> columns,
      Supplier<StreamPolicies> policies) {
    this.policies = policies;
    this.partitionId = config.partitionId();
    this.limits = config.limits();
    this.decoder = new RequestDecoder(limits.maxDecodedBytes(), limits.maxEventBytes());
    this.committer = committer;
    this.budget = budget;
    this.metrics = metrics;
    this.readiness = readiness;
    this.auth = auth;
    this.columns = columns;
  }

  /** Checks that need no body, then reserves in-flight bytes for it. */
  public void admit(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    Readiness.NotReady notReady = readiness.notReady();
    if (notReady != null && notReady.refusesWrites()) {
      throw new IngestException.Unavailable(
          notReady.label(), notReady.explanation(), notReady.retryAfterSeconds());
    }
    ctx.put(FORMAT, RequestDecoder.format(req.getHeader(HttpHeaders.CONTENT_TYPE)));
    String idempotencyKey = req.getHeader(FloeHttp.IDEMPOTENCY_KEY);
    if (idempotencyKey != null) {
      checkIdempotencyKey(idempotencyKey);
      ctx.put(IDEMPOTENCY_KEY, idempotencyKey);
    }
    String stream = ctx.pathParam("stream");
    RequestDecoder.checkStream(stream);
    IngestException badFieldName = badFieldName(req);
    if (badFieldName != null) {
      if (idempotencyKey == null) {
        throw badFieldName;
      }
      // a retry of a request acknowledged before names this long were refused gets its first answer
      ctx.put(REFUSAL, badFieldName);
    }
    BadRecords badRecords = badRecords(stream, req.getHeader(FloeHttp.ON_ERROR));
    if (badRecords == BadRecords.NOT_ALLOWED) {
      if (idempotencyKey == null) {
        throw deadLettersNotAllowed(stream);
      }
      // a retry of a request acknowledged before the stream's policy changed gets its first answer
      ctx.put(REFUSAL, deadLettersNotAllowed(stream));
    }
    if (badRecords == BadRecords.KEEP) {
      String requestId = req.getHeader(FloeHttp.REQUEST_ID);
      if (requestId != null && !visibleAscii(requestId, MAX_REQUEST_ID_LENGTH)) {
        throw new IngestException.BadRequest(
            "bad_request_id",
            FloeHttp.REQUEST_ID
                + " must be 1.."
                + MAX_REQUEST_ID_LENGTH
                + " visible ASCII characters");
      }
      ctx.put(DEAD_LETTER, Boolean.TRUE);
    }
    long declared = contentLength(req);
    if (declared > limits.maxBodyBytes()) {
      throw new IngestException.TooLarge(
          "request body is "
              + declared
              + " bytes, over the limit of "
              + limits.maxBodyBytes()
              + " (ingest.max-body-bytes)");
    }
    long reserve = declared >= 0 ? declared : limits.maxBodyBytes();
    InflightBudget.Reservation reservation = budget.reserve(reserve);
    if (reservation == null) {
      throw new IngestException.Unavailable(
          "inflight_full",
          "node is at its in-flight budget of "
              + budget.maxBytes()
              + " bytes (ingest.inflight-max-bytes)",
          1);
    }
    ctx.put(RESERVATION, reservation);
    ctx.addEndHandler(v -> reservation.release());
    ctx.next();
  }

  /** Reads and decodes the body, writes the batch durably, answers. */
  public void ingest(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    RequestDecoder.Format format = ctx.get(FORMAT);
    String idempotencyKey = ctx.get(IDEMPOTENCY_KEY);
    BodyReader.read(ctx.vertx(), req, limits, contentLength(req))
        .compose(body -> store(ctx, format, idempotencyKey, body))
        // Buffer.buffer(ack) is what end(String) made of it: no allocation more than before
        .onSuccess(ack -> JsonResponses.send(ctx.response(), 200, Buffer.buffer(ack)))
        .onFailure(ctx::fail);
  }

  /**
   * Decodes the body and hands it to the committer; the answer. A request with an Idempotency-Key
   * that is refused (now) gets the answer its key was given for these bytes, if it was: a retry of
   * an acknowledged request is answered as it was, whatever the stream's policy or column mapping
   * became since.
   */
  private Future<String> store(
      RoutingContext ctx,
      RequestDecoder.Format format,
      String idempotencyKey,
      BodyReader.Body body) {
    byte[] requestFingerprint = idempotencyKey == null ? null : RequestFingerprints.of(ctx, body);
    IngestException refused = ctx.get(REFUSAL);
    if (refused != null) {
      return firstAnswerOr(ctx, idempotencyKey, requestFingerprint, body, refused);
    }
    FieldNames fields =
        new FieldNames(
            param(ctx, "key_field", limits.keyField()),
            param(ctx, "time_field", limits.timeField()));
    InflightBudget.Reservation reservation = ctx.get(RESERVATION);
    // dead letters are budgeted like events, each as it is kept
    DeadLetterBatch.Builder deadBuilder =
        ctx.get(DEAD_LETTER) == null
            ? null
            : new DeadLetterBatch.Builder(limits.deadLetterMaxRawBytes(), reservation::grow);
    EventBatch batch;
    try {
      batch = decode(ctx, format, fields, body, deadBuilder);
    } catch (IngestException e) {
      if (idempotencyKey == null) {
        throw e;
      }
      return firstAnswerOr(ctx, idempotencyKey, requestFingerprint, body, e);
    }
    DeadLetters dead =
        deadBuilder == null || deadBuilder.count() == 0
            ? null
            : deadLetters(ctx, format, batch, deadBuilder, idempotencyKey);
    IdempotencyKey key =
        idempotencyKey == null
            ? null
            : new IdempotencyKey(
                ScopedAuth.producer(ctx),
                batch.stream(),
                idempotencyKey,
                IdempotencyKey.fingerprint(
                    batch,
                    dead == null ? null : dead.batch(),
                    fields.keyField(),
                    fields.timeField()),
                requestFingerprint,
                RequestFingerprints.legacy(ctx, body));
    return Future.fromCompletionStage(
            committer.submit(batch, dead, key), ctx.vertx().getOrCreateContext())
        .recover(
            e ->
                Future.failedFuture(
                    new IngestException.StorageFailed(String.valueOf(e.getMessage()))))
        .map(appended -> answer(ctx, batch, dead, appended));
  }

  /**
   * The answer remembered for the request's key when it was given for these very bytes, else the
   * {@code refusal} the request gets now. Writes nothing.
   */
  private Future<String> firstAnswerOr(
      RoutingContext ctx,
      String idempotencyKey,
      byte[] requestFingerprint,
      BodyReader.Body body,
      IngestException refusal) {
    IdempotencyKey key =
        new IdempotencyKey(
            ScopedAuth.producer(ctx),
            ctx.pathParam("stream"),
            idempotencyKey,
            null,
            requestFingerprint,
            RequestFingerprints.legacy(ctx, body));
    return Future.fromCompletionStage(committer.remembered(key), ctx.vertx().getOrCreateContext())
        .recover(
            e ->
                Future.failedFuture(
                    new IngestException.StorageFailed(String.valueOf(e.getMessage()))))
        .compose(
            appended ->
                appended == null
                    ? Future.failedFuture(refusal)
                    : Future.succeededFuture(answer(ctx, null, null, appended)));
  }

  /**
   * The request's dead letters with its context: who sent it (the token's name, never a header's
   * secret), how, and the answer's first reasons.
   */
  private DeadLetters deadLetters(
      RoutingContext ctx,
      RequestDecoder.Format format,
      EventBatch batch,
      DeadLetterBatch.Builder builder,
      String idempotencyKey) {
    HttpServerRequest req = ctx.request();
    String requestId = req.getHeader(FloeHttp.REQUEST_ID);
    // the media type only (no parameter a client may have put more in), and the field names the
    // request named: what a replay needs to read the record as this request did
    String mediaType = req.getHeader(HttpHeaders.CONTENT_TYPE).split(";", 2)[0].strip();
    String contentType =
        FieldNames.recordIn(
            mediaType.length() > 200 ? mediaType.substring(0, 200) : mediaType,
            namedParam(ctx, "key_field"),
            namedParam(ctx, "time_field"));
    DeadLetterBatch.Context context =
        new DeadLetterBatch.Context(
            batch.stream(),
            batch.ingestTimeMicros(),
            contentType,
            ScopedAuth.producer(ctx),
            requestId == null ? UUID.randomUUID().toString() : requestId,
            idempotencyKey,
            0,
            null);
    // the encoded value waits for the writer beside the kept records it is made of
    InflightBudget.Reservation reservation = ctx.get(RESERVATION);
    if (!reservation.grow(builder.encodedSize(context))) {
      throw DecodeBudget.deadLettersFull();
    }
    DeadLetterBatch dead = builder.build(context);
    String where = format == RequestDecoder.Format.NDJSON ? "line" : "element";
    JsonArray reasons = new JsonArray();
    for (DeadLetterBatch.Record r : dead.records()) {
      if (reasons.size() == MAX_REASONS) {
        break;
      }
      String detail = r.detail();
      reasons.add(
          new JsonObject()
              .put(where, r.position())
              .put("code", r.code())
              .put(
                  "detail",
                  detail.length() > MAX_REASON_DETAIL_CHARS
                      ? detail.substring(0, MAX_REASON_DETAIL_CHARS)
                      : detail));
    }
    return new DeadLetters(dead, reasons.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** The answer to a request; {@code batch} may be null where {@code appended} was not written. */
  private String answer(RoutingContext ctx, EventBatch batch, DeadLetters dead, Appended appended) {
    switch (appended.outcome()) {
      case WRITTEN -> {
        metrics.accepted(batch.count(), batch.sizeBytes());
        if (dead != null) {
          for (DeadLetterBatch.Record r : dead.batch().records()) {
            metrics.deadLettered(batch.stream(), r.code(), 1);
          }
        }
        // dead letters are stored too: they count against the producer's quota like events
        auth.stored(ctx, batch.count() + (dead == null ? 0 : dead.count()));
      }
      case REPLAYED -> {
        metrics.idempotentReplay();
        ctx.response().putHeader(FloeHttp.IDEMPOTENCY_REPLAYED, "true");
      }
      case KEY_REUSED ->
          throw new IngestException.KeyReused(
              FloeHttp.IDEMPOTENCY_KEY
                  + " '"
                  + ctx.get(IDEMPOTENCY_KEY)
                  + "' was used for different events (sequences "
                  + appended.firstSequence()
                  + ".."
                  + appended.lastSequence()
                  + "); use a new key for new events");
    }
    if (appended.deadLettered() == 0) {
      return new JsonObject()
          .put("accepted", appended.accepted())
          .put("partition_id", partitionId)
          .put("first_sequence", appended.firstSequence())
          .put("last_sequence", appended.lastSequence())
          .encode();
    }
    JsonObject answer =
        new JsonObject()
            .put("accepted", appended.accepted())
            .put("dead_lettered", appended.deadLettered())
            .put("partition_id", partitionId);
    if (appended.accepted() > 0) {
      answer
          .put("first_sequence", appended.firstSequence())
          .put("last_sequence", appended.lastSequence());
    }
    return answer
        .put("dead_letters_first_sequence", appended.lastSequence() + 1)
        .put("dead_letters_last_sequence", appended.lastSequence() + appended.deadLettered())
        .put("dead_letters", new JsonArray(new String(appended.reasons(), StandardCharsets.UTF_8)))
        .encode();
  }

  /** What a request does with its bad records. */
  private enum BadRecords {
    /** Refuses the whole request (reject). */
    REFUSE,
    /** Keeps them as dead letters. */
    KEEP,
    /** It asked to keep them where the stream's policy does not: the request is refused. */
    NOT_ALLOWED
  }

  /**
   * What a request to {@code stream} does with its bad records: the stream's policy, narrowed by
   * the producer's {@link FloeHttp#ON_ERROR} header; asking for dead letters where the policy
   * refuses them is refused, so that a producer never believes bad records are kept when they are
   * not.
   */
  private BadRecords badRecords(String stream, String header) {
    OnError policy = policies.get().of(stream);
    if (header == null || header.isBlank()) {
      return policy == OnError.DEAD_LETTER ? BadRecords.KEEP : BadRecords.REFUSE;
    }
    OnError asked;
    try {
      asked = OnError.parse(header);
    } catch (IllegalArgumentException e) {
      asked = null;
    }
    if (asked == OnError.REJECT) {
      return BadRecords.REFUSE;
    }
    if (asked != OnError.DEAD_LETTER) {
      throw new IngestException.BadRequest(
          "bad_on_error", FloeHttp.ON_ERROR + " must be dead-letter or reject");
    }
    return policy == OnError.REJECT ? BadRecords.NOT_ALLOWED : BadRecords.KEEP;
  }

  private static IngestException deadLettersNotAllowed(String stream) {
    return new IngestException.BadRequest(
        "dead_letters_not_allowed",
        "stream '"
            + stream
            + "' does not keep dead letters (its policy is reject); an operator allows them with "
            + "scripts/floe streams set "
            + stream
            + " --on-error per-request (or dead-letter)");
  }

  private static boolean visibleAscii(String value, int maxLength) {
    boolean ok = !value.isEmpty() && value.length() <= maxLength;
    for (int i = 0; ok && i < value.length(); i++) {
      char c = value.charAt(i);
      ok = c > 0x20 && c < 0x7f;
    }
    return ok;
  }

  private static void checkIdempotencyKey(String key) {
    if (!visibleAscii(key, MAX_IDEMPOTENCY_KEY_LENGTH)) {
      throw new IngestException.BadRequest(
          "bad_idempotency_key",
          FloeHttp.IDEMPOTENCY_KEY
              + " must be 1.."
              + MAX_IDEMPOTENCY_KEY_LENGTH
              + " visible ASCII characters");
    }
  }

  private EventBatch decode(
      RoutingContext ctx,
      RequestDecoder.Format format,
      FieldNames fields,
      BodyReader.Body body,
      DeadLetterBatch.Builder dead) {
    long ingestMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    InflightBudget.Reservation reservation = ctx.get(RESERVATION);
    long base = reservation.bytes();
    EventBatch batch =
        decoder.decode(
            ctx.pathParam("stream"),
            format,
            ctx.request().getHeader(HttpHeaders.CONTENT_ENCODING),
            body.bytes(),
            body.length(),
            fields,
            ingestMicros,
            reservation::grow,
            columns.get().rejectCheck(ctx.pathParam("stream")),
            dead);
    // the decompression buffers are garbage now; what waits for the writer is the batch's whole
    // buffer (its capacity, reserved as it grew) and the kept dead letters (reserved as each was
    // kept, their encoded value is reserved when it is built). Both were reserved while decoding,
    // so the reservation only gives back here
    long waiting = batch.capacityBytes() + (dead == null ? 0 : dead.heldBytes());
    reservation.shrinkTo(Math.max(base, waiting));
    return batch;
  }

  private static long contentLength(HttpServerRequest req) {
    String value = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IngestException.BadRequest(
          "bad_request", "Content-Length '" + value + "' is not a number");
    }
  }

  /**
   * A key_field or time_field longer than {@link FieldNames#MAX_NAME_LENGTH}: refused, since a dead
   * letter records the names it was read with (for its replay) and could not record it.
   */
  private static IngestException badFieldName(HttpServerRequest req) {
    for (String name : new String[] {"key_field", "time_field"}) {
      String v = req.getParam(name);
      if (v != null && v.length() > FieldNames.MAX_NAME_LENGTH) {
        return new IngestException.BadRequest(
            "bad_field_name",
            name + " must be at most " + FieldNames.MAX_NAME_LENGTH + " characters");
      }
    }
    return null;
  }

  /** A query parameter the request named (not blank), or null. */
  private static String namedParam(RoutingContext ctx, String name) {
    return param(ctx, name, null);
  }

  private static String param(RoutingContext ctx, String name, String fallback) {
    String v = ctx.request().getParam(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
