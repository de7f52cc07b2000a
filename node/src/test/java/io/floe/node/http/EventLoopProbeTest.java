package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventLoopProbeTest {
  @Test
  void aLoopBlockedFor300MsIsOneSampleOfAboutThatDelay() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      List<Long> delays = new CopyOnWriteArrayList<>();
      CountDownLatch started = new CountDownLatch(1);
      EventLoopProbe[] probe = new EventLoopProbe[1];
      vertx.runOnContext(
          v -> {
            probe[0] = EventLoopProbe.start(vertx, delays::add);
            started.countDown();
          });
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(200);
      int before = delays.size();
      assertThat(before).as("samples in 200 ms at one per 10 ms").isGreaterThan(3);
      CountDownLatch blocked = new CountDownLatch(1);
      vertx.runOnContext(
          v -> {
            long until = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < until) {
              Thread.onSpinWait();
            }
            blocked.countDown();
          });
      assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(100);
      List<Long> after = delays.subList(before, delays.size());
      assertThat(after.stream().filter(d -> d >= 250_000_000L).count())
          .as("one long sample for one stall: %s", after)
          .isEqualTo(1);
      probe[0].stop();
      Thread.sleep(50);
      int stopped = delays.size();
      Thread.sleep(100);
      assertThat(delays).hasSize(stopped);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
