package io.floe.node.buffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The WAL writer thread dies of an Error: no request hangs, and the node is told. */
class GroupCommitterDeathTest {
  private static EventBatch batch() {
    EventBatch.Builder b = new EventBatch.Builder("s", 1, 16);
    byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
    b.add(1, null, payload, 0, payload.length);
    return b.build();
  }

  @Test
  void everyWaitingAndLaterRequestFailsAtOnceAndTheDeathIsReported() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Throwable> reported = new AtomicReference<>();
    GroupCommitter.BatchAppender dying =
        (batches, dead, keys) -> {
          writing.countDown();
          release.await();
          throw new OutOfMemoryError("injected");
        };
    GroupCommitter committer = new GroupCommitter(dying, 1 << 20, new NodeMetrics(), reported::set);
    CompletableFuture<Appended> inGroup = committer.submit(batch());
    assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Appended> queued = committer.submit(batch());
    release.countDown();

    assertThatThrownBy(() -> inGroup.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(OutOfMemoryError.class);
    assertThatThrownBy(() -> queued.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    assertThat(reported.get()).isInstanceOf(OutOfMemoryError.class);
    assertThat(committer.alive()).isFalse();
    CompletableFuture<Appended> later = committer.submit(batch());
    assertThat(later).isCompletedExceptionally();
    committer.close();
  }

  @Test
  void anOrdinaryWriteFailureFailsOnlyItsGroup() throws Exception {
    AtomicReference<Throwable> reported = new AtomicReference<>();
    boolean[] fail = {true};
    GroupCommitter.BatchAppender flaky =
        (batches, dead, keys) -> {
          if (fail[0]) {
            fail[0] = false;
            throw new IOException("disk hiccup");
          }
          return List.of(new Appended(1, 1));
        };
    try (GroupCommitter committer =
        new GroupCommitter(flaky, 1 << 20, new NodeMetrics(), reported::set)) {
      assertThatThrownBy(() -> committer.submit(batch()).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IOException.class);
      assertThat(committer.submit(batch()).get(10, TimeUnit.SECONDS).lastSequence()).isEqualTo(1);
      assertThat(committer.alive()).isTrue();
      assertThat(reported.get()).isNull();
    }
  }
}
