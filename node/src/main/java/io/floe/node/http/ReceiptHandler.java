package io.floe.node.http;

import io.floe.common.http.JsonResponses;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.flush.Flusher;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/**
 * {@code GET /v1/partitions/{p}/committed[?wait_for=<seq>&timeout_seconds=<s>]}: the receipt. An
 * acknowledgement means durable; this tells when the acknowledged sequences are queryable: the
 * partition's committed sequence and the snapshot that committed it. With {@code wait_for} it
 * answers once the committed sequence reaches it, or at the timeout ({@code "reached": false}).
 */
final class ReceiptHandler {
  private static final long POLL_MILLIS = 50;
  private static final double MAX_WAIT_SECONDS = 60;

  private final int partitionId;
  private final RocksBuffer buffer;
  private final Supplier<Flusher> flushers;

  ReceiptHandler(int partitionId, RocksBuffer buffer, Supplier<Flusher> flushers) {
    this.partitionId = partitionId;
    this.buffer = buffer;
    this.flushers = flushers;
  }

  void committed(RoutingContext ctx) {
    int p;
    long waitFor;
    double timeout;
    try {
      p = Integer.parseInt(ctx.pathParam("partition"));
      String w = ctx.request().getParam("wait_for");
      waitFor = w == null ? Long.MIN_VALUE : Long.parseLong(w);
      String t = ctx.request().getParam("timeout_seconds");
      timeout = t == null ? 30 : Double.parseDouble(t);
    } catch (NumberFormatException e) {
      JsonResponses.error(
          ctx.response(),
          400,
          "bad_request",
          "partition, wait_for and timeout_seconds must be numbers: " + e.getMessage());
      return;
    }
    if (p != partitionId) {
      JsonResponses.error(
          ctx.response(),
          404,
          "not_found",
          "this node holds partition " + partitionId + ", not " + p);
      return;
    }
    if (flushers.get() == null) {
      JsonResponses.error(ctx.response(), 503, "unavailable", OpsHandler.NO_FLUSHER, 5);
      return;
    }
    long deadline =
        System.nanoTime() + (long) (Math.min(Math.max(timeout, 0), MAX_WAIT_SECONDS) * 1e9);
    if (waitFor == Long.MIN_VALUE
        || buffer.committedSequence() >= waitFor
        || System.nanoTime() >= deadline) {
      answer(ctx, waitFor);
      return;
    }
    long timer =
        ctx.vertx()
            .setPeriodic(
                POLL_MILLIS,
                id -> {
                  if (buffer.committedSequence() >= waitFor
                      || System.nanoTime() >= deadline
                      || ctx.response().closed()) {
                    ctx.vertx().cancelTimer(id);
                    answer(ctx, waitFor);
                  }
                });
    ctx.response().closeHandler(v -> ctx.vertx().cancelTimer(timer));
  }

  private void answer(RoutingContext ctx, long waitFor) {
    long committed = buffer.committedSequence();
    Flusher flusher = flushers.get();
    long snapshot = flusher == null ? -1 : flusher.committedSnapshotId();
    JsonObject body =
        new JsonObject()
            .put("partition_id", partitionId)
            .put("committed_sequence", committed)
            .put("snapshot_id", snapshot < 0 ? null : snapshot)
            .put("high_water_mark", buffer.highWaterMark());
    if (waitFor != Long.MIN_VALUE) {
      body.put("wait_for", waitFor).put("reached", committed >= waitFor);
    }
    JsonResponses.send(ctx.response(), 200, body);
  }
}
