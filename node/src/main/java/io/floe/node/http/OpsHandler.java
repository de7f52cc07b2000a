package io.floe.node.http;

import io.floe.common.http.FloeHttp;
import io.floe.common.http.JsonResponses;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.flush.Flusher;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Supplier;

/** Health, status and metrics endpoints. */
public final class OpsHandler {
  private final int partitionId;
  private final RocksBuffer buffer;
  private final InflightBudget budget;
  private final NodeMetrics metrics;
  private final Readiness readiness;
  private final Supplier<Flusher> flushers;
  private final ReceiptHandler receipt;
  static final String NO_FLUSHER =
      "this node does not flush now: flush.enabled=false, or its partition has not"
          + " joined the table yet (catalog unreachable; see /v1/status)";

  /**
   * @param flushers the flusher, or null while there is none (flush disabled, or the partition not
   *     joined yet)
   */
  public OpsHandler(
      int partitionId,
      RocksBuffer buffer,
      InflightBudget budget,
      NodeMetrics metrics,
      Readiness readiness,
      Supplier<Flusher> flushers) {
    this.partitionId = partitionId;
    this.buffer = buffer;
    this.budget = budget;
    this.metrics = metrics;
    this.readiness = readiness;
    this.flushers = flushers;
    this.receipt = new ReceiptHandler(partitionId, buffer, flushers);
  }

  /** {@code GET /v1/partitions/{p}/committed}: see {@link ReceiptHandler}. */
  public void committed(RoutingContext ctx) {
    receipt.committed(ctx);
  }

  public void live(RoutingContext ctx) {
    json(ctx, 200, new JsonObject().put("status", "live"));
  }

  /** 200 when the node takes writes; 503 with the reason when it does not. */
  public void ready(RoutingContext ctx) {
    Readiness.NotReady reason = readiness.notReady();
    if (reason == null) {
      json(ctx, 200, new JsonObject().put("status", "ready").put("partition_id", partitionId));
    } else {
      ctx.response().putHeader(FloeHttp.RETRY_AFTER, Integer.toString(reason.retryAfterSeconds()));
      json(
          ctx,
          503,
          new JsonObject()
              .put("status", "not_ready")
              .put("reason", reason.label())
              .put("partition_id", partitionId));
    }
  }

  /**
   * {@code GET /v1/status}: built off the event loop, since the claim epoch and the idempotency
   * keys are read under the buffer's own locks.
   */
  public void status(RoutingContext ctx) {
    ctx.vertx()
        .executeBlocking(this::statusBody, false)
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(
            e ->
                JsonResponses.error(
                    ctx.response(), 503, "unavailable", "status unreadable: " + e.getMessage(), 1));
  }

  private JsonObject statusBody() throws Exception {
    Readiness.NotReady reason = readiness.notReady();
    JsonObject status =
        new JsonObject()
            .put("partition_id", partitionId)
            .put("ready", reason == null)
            .put("not_ready_reason", reason == null ? null : reason.label())
            .put("durability", buffer.config().durability().name().toLowerCase(Locale.ROOT))
            .put("high_water_mark", buffer.highWaterMark())
            .put("committed_sequence", buffer.committedSequence())
            .put("buffered_events", buffer.bufferedEvents())
            .put("buffered_bytes", buffer.bufferedBytes())
            .put("buffer_max_bytes", buffer.config().maxBytes())
            .put("inflight_requests", budget.requests())
            .put("inflight_bytes", budget.usedBytes())
            .put("inflight_max_bytes", budget.maxBytes())
            .put("epoch", buffer.claimEpoch())
            .put("idempotency_keys", buffer.idempotencyKeys())
            .put(
                "salvage_needed",
                reason == Readiness.NotReady.SALVAGE_NEEDED || buffer.salvageNeeded());
    Flusher flusher = flushers.get();
    status.put("table_joined", flusher != null);
    if (flusher != null) {
      status.put(
          "flush",
          new JsonObject()
              .put("lag_seconds", flusher.lagMillis() / 1000.0)
              .put(
                  "last_commit",
                  flusher.lastCommitMillis() == 0
                      ? null
                      : Instant.ofEpochMilli(flusher.lastCommitMillis()).toString())
              .put(
                  "last_commit_snapshot",
                  flusher.committedSnapshotId() < 0 ? null : flusher.committedSnapshotId())
              .put("consecutive_failures", flusher.consecutiveFailures())
              .put("last_error", flusher.lastError())
              .put("fenced", flusher.fenced()));
    }
    return status;
  }

  /** {@code POST /v1/flush}: flush and commit everything acknowledged so far. */
  public void flush(RoutingContext ctx) {
    Flusher flusher = flushers.get();
    if (flusher == null) {
      JsonResponses.error(ctx.response(), 503, "unavailable", NO_FLUSHER, 5);
      return;
    }
    long hwm = buffer.highWaterMark();
    Future.fromCompletionStage(flusher.flushNow(), ctx.vertx().getOrCreateContext())
        .onSuccess(
            committed ->
                json(
                    ctx,
                    200,
                    new JsonObject()
                        .put("partition_id", partitionId)
                        .put("committed_sequence", committed)
                        .put("high_water_mark", hwm)))
        .onFailure(
            e -> {
              JsonResponses.error(
                  ctx.response(), 503, "unavailable", "flush failed: " + e.getMessage(), 5);
            });
  }

  public void metrics(RoutingContext ctx) {
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, NodeMetrics.contentType())
        .end(Buffer.buffer(metrics.scrape()));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    JsonResponses.send(ctx.response(), status, body);
  }
}
