package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A flood of bad records is budgeted as it is kept: a request of a million malformed lines under
 * the dead-letter policy is refused (503 {@code inflight_full}) once its dead letters outgrow the
 * budget, having kept only what the budget allowed — never all of them first.
 */
class DeadLetterBudgetTest {
  private static final long BUDGET = 1L << 20;

  @Test
  void aFloodOfBadRecordsIsRefusedAsItGrows() {
    byte[] body = "x\n".repeat(1_000_000).getBytes(StandardCharsets.UTF_8);
    AtomicLong reserved = new AtomicLong();
    DeadLetterBatch.Builder dead =
        new DeadLetterBatch.Builder(
            1024, bytes -> reserved.addAndGet(bytes) <= BUDGET || reserved.addAndGet(-bytes) < 0);

    assertThatThrownBy(() -> decode(body, dead))
        .isInstanceOfSatisfying(
            IngestException.Unavailable.class,
            e -> assertThat(e.reason()).isEqualTo("inflight_full"));
    assertThat(reserved.get()).isLessThanOrEqualTo(BUDGET);
    assertThat(dead.count()).isPositive().isLessThan(20_000);
  }

  @Test
  void withinTheBudgetEveryBadRecordIsKept() {
    byte[] body = "x\n{\"ok\":1}\nnot json\n".getBytes(StandardCharsets.UTF_8);
    AtomicLong reserved = new AtomicLong();
    DeadLetterBatch.Builder dead =
        new DeadLetterBatch.Builder(1024, bytes -> reserved.addAndGet(bytes) <= BUDGET);
    EventBatch batch = decode(body, dead);
    assertThat(batch.count()).isEqualTo(1);
    assertThat(dead.count()).isEqualTo(2);
    assertThat(reserved.get()).isPositive();
  }

  /** An NDJSON body for a dead-lettering stream, nothing else limiting. */
  private static EventBatch decode(byte[] body, DeadLetterBatch.Builder dead) {
    return new RequestDecoder(8L << 20, 4096)
        .decode(
            "orders",
            RequestDecoder.Format.NDJSON,
            null,
            body,
            body.length,
            new FieldNames("key", "event_time"),
            1_795_000_000_000_000L,
            DecodeBudget.UNLIMITED,
            null,
            dead);
  }
}
