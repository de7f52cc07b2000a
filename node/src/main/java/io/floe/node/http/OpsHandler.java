package io.floe.node.http;

import io.floe.node.buffer.RocksBuffer;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.BooleanSupplier;

/** Health, status and metrics endpoints. */
public final class OpsHandler {
  private final int partitionId;
  private final RocksBuffer buffer;
  private final InflightBudget budget;
  private final NodeMetrics metrics;
  private final BooleanSupplier draining;

  public OpsHandler(
      int partitionId, RocksBuffer buffer, InflightBudget budget, NodeMetrics metrics, BooleanSupplier draining) {
    this.partitionId = partitionId;
    this.buffer = buffer;
    this.budget = budget;
    this.metrics = metrics;
    this.draining = draining;
  }

  public void live(RoutingContext ctx) {
    json(ctx, 200, new JsonObject().put("status", "live"));
  }

  /** 200 when the node takes writes; 503 with the reason when it does not. */
  public void ready(RoutingContext ctx) {
    String reason = notReadyReason();
    if (reason == null) {
      json(ctx, 200, new JsonObject().put("status", "ready"));
    } else {
      ctx.response().putHeader("Retry-After", "5");
      json(ctx, 503, new JsonObject().put("status", "not_ready").put("reason", reason));
    }
  }

  /** Why the node refuses writes now, or null when it accepts them. */
  public String notReadyReason() {
    if (draining.getAsBoolean()) {
      return "draining";
    }
    if (buffer.bufferedBytes() >= buffer.config().maxBytes()) {
      return "buffer_full";
    }
    return null;
  }

  public void status(RoutingContext ctx) {
    String reason = notReadyReason();
    json(
        ctx,
        200,
        new JsonObject()
            .put("partition_id", partitionId)
            .put("ready", reason == null)
            .put("not_ready_reason", reason)
            .put("durability", buffer.config().durability().name().toLowerCase(java.util.Locale.ROOT))
            .put("high_water_mark", buffer.highWaterMark())
            .put("committed_sequence", buffer.committedSequence())
            .put("buffered_events", buffer.bufferedEvents())
            .put("buffered_bytes", buffer.bufferedBytes())
            .put("buffer_max_bytes", buffer.config().maxBytes())
            .put("inflight_requests", budget.requests())
            .put("inflight_bytes", budget.usedBytes())
            .put("inflight_max_bytes", budget.maxBytes()));
  }

  public void metrics(RoutingContext ctx) {
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, NodeMetrics.contentType())
        .end(io.vertx.core.buffer.Buffer.buffer(metrics.scrape()));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }
}
