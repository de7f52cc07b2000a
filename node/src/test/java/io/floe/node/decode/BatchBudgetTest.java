package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A request's batch is reserved as it is allocated: events that take more in the batch than in the
 * body (an empty object takes 12 bytes for its 3) grow the batch's buffer past what was reserved
 * for it up front, and each growth is reserved first, or the request is refused with 503 {@code
 * inflight_full}. A request's dead letters are reserved as kept and, encoded, to the byte.
 */
class BatchBudgetTest {
  private static final byte[] TINY = "{}\n".repeat(100_000).getBytes(StandardCharsets.US_ASCII);

  @Test
  void everyByteOfTheBatchBufferIsReservedAsItGrows() {
    AtomicLong reserved = new AtomicLong();
    EventBatch batch =
        decode(
            TINY,
            bytes -> {
              reserved.addAndGet(bytes);
              return true;
            });
    assertThat(batch.count()).isEqualTo(100_000);
    assertThat(batch.sizeBytes()).as("4 times the body").isGreaterThan(4 * (TINY.length - 1));
    assertThat(reserved.get())
        .as("what the batch holds, all of it reserved")
        .isEqualTo(batch.capacityBytes());
  }

  @Test
  void aBatchThatOutgrowsTheBudgetIsRefused() {
    // twice the body: more than the quarter more reserved up front, less than the batch needs
    long budget = 2L * TINY.length;
    AtomicLong reserved = new AtomicLong();
    assertThatThrownBy(
            () ->
                decode(
                    TINY,
                    bytes -> {
                      if (reserved.get() + bytes > budget) {
                        return false;
                      }
                      reserved.addAndGet(bytes);
                      return true;
                    }))
        .isInstanceOfSatisfying(
            IngestException.Unavailable.class,
            e -> assertThat(e.reason()).isEqualTo("inflight_full"));
    assertThat(reserved.get()).isLessThanOrEqualTo(budget);
  }

  @Test
  void deadLettersAreReservedAsKeptAndTheirValueToTheByte() {
    AtomicLong reserved = new AtomicLong();
    DeadLetterBatch.Builder dead =
        new DeadLetterBatch.Builder(
            1024,
            bytes -> {
              reserved.addAndGet(bytes);
              return true;
            });
    byte[] raw = "ünïcødé € \0 x".getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 50; i++) {
      assertThat(dead.add("bad_json", "détail € \0 " + i, i + 1, raw, 0, raw.length)).isTrue();
    }
    assertThat(dead.heldBytes()).isEqualTo(reserved.get());
    DeadLetterBatch.Context context =
        new DeadLetterBatch.Context(
            "orders", 1L, "application/x-ndjson", "prodücer", "r-1", "k €", 0, null);
    long encoded = dead.encodedSize(context);
    DeadLetterBatch batch = dead.build(context);
    assertThat(batch.toByteArray()).hasSize((int) encoded);
    DeadLetterBatch read = DeadLetterBatch.fromStored(batch.toByteArray());
    assertThat(read.context().principal()).isEqualTo("prodücer");
    assertThat(read.context().idempotencyKey()).isEqualTo("k €");
    assertThat(read.records()).hasSize(50);
    assertThat(read.records().get(7).detail()).isEqualTo("détail € \0 7");
    assertThat(DeadLetterBatch.encodedSize(context, List.of()))
        .isEqualTo(DeadLetterBatch.of(context, List.of()).sizeBytes());
  }

  private static EventBatch decode(byte[] body, DecodeBudget budget) {
    return new RequestDecoder(8L << 20, 4096)
        .decode(
            "orders",
            RequestDecoder.Format.NDJSON,
            null,
            body,
            body.length,
            new FieldNames("key", "event_time"),
            1_795_000_000_000_000L,
            budget,
            null,
            null);
  }
}
