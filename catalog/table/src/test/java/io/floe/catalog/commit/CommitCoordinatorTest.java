package io.floe.catalog.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CommitCoordinatorTest {
  private Catalog catalog;
  private final TableSettings settings = TableSettings.defaults();

  @BeforeEach
  void setUp() {
    InMemoryCatalog c = new InMemoryCatalog();
    c.initialize("test", Map.of());
    catalog = c;
    EventsTable.ensure(catalog, settings);
  }

  private Table table() {
    return catalog.loadTable(EventsTable.identifier(settings));
  }

  private CommitCoordinator.Handover handover(PartitionClaim c, long after, long through) {
    return CommitCoordinator.Handover.of(
        c,
        after,
        through,
        List.of(BatchCommitTest.file(table(), through - after)),
        through - after,
        false);
  }

  private static CommitCoordinator.Settings settings(long maxPendingBytes) {
    return new CommitCoordinator.Settings(
        Duration.ofSeconds(2),
        Duration.ofMillis(250),
        5000,
        maxPendingBytes,
        Duration.ofHours(1),
        Duration.ofMinutes(30));
  }

  @Test
  void handOversOfManyPartitionsAreAnsweredFromOneCommit() throws Exception {
    List<PartitionClaim> claims = new ArrayList<>();
    for (int p = 0; p < 5; p++) {
      claims.add(new CommitProtocol(table(), p, "node-" + p).claim());
    }
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    CommitCoordinator coordinator = new CommitCoordinator(table(), epoch, settings(1 << 20));
    List<CompletableFuture<HandoverAnswer>> answers = new ArrayList<>();
    claims.forEach(c -> answers.add(coordinator.handOver(handover(c, 0, 3))));
    // a re-send of a pending range joins it
    CompletableFuture<HandoverAnswer> resend = coordinator.handOver(handover(claims.get(0), 0, 3));
    assertThat(coordinator.stats().pendingHandovers()).isEqualTo(5);
    assertThat(coordinator.stats().pendingBytes()).isEqualTo(5000);

    assertThat(coordinator.commitPending()).isTrue();

    long snapshot = table().currentSnapshot().snapshotId();
    for (CompletableFuture<HandoverAnswer> a : answers) {
      assertThat(a).isCompletedWithValue(new HandoverAnswer.Committed(3, snapshot));
    }
    assertThat(resend).isCompletedWithValue(new HandoverAnswer.Committed(3, snapshot));
    CommitCoordinator.Stats stats = coordinator.stats();
    assertThat(stats.commits()).isEqualTo(1);
    assertThat(stats.attempts()).isEqualTo(1);
    assertThat(stats.lastPartitionsPerCommit()).isEqualTo(5);
    assertThat(stats.pendingHandovers()).isZero();
    assertThat(stats.pendingBytes()).isZero();
    assertThat(coordinator.commitPending()).as("nothing pending").isFalse();
  }

  @Test
  void aFullQueueAnswersBusyAndAFencedCoordinatorNotCoordinator() {
    PartitionClaim c0 = new CommitProtocol(table(), 0, "n0").claim();
    PartitionClaim c1 = new CommitProtocol(table(), 1, "n1").claim();
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    CommitCoordinator coordinator = new CommitCoordinator(table(), epoch, settings(1500));
    CompletableFuture<HandoverAnswer> first = coordinator.handOver(handover(c0, 0, 1));
    assertThat(coordinator.handOver(handover(c1, 0, 1)))
        .isCompletedWithValue(new HandoverAnswer.Busy(2000));

    CoordinatorClaim.claim(table(), "b:1", "b");
    coordinator.commitPending();

    assertThat(first).isCompletedWithValue(new HandoverAnswer.NotCoordinator(epoch + 1));
    assertThat(coordinator.active()).isFalse();
    assertThat(coordinator.handOver(handover(c1, 0, 1)))
        .isCompletedWithValue(new HandoverAnswer.NotCoordinator(epoch + 1));
    assertThat(table().currentSnapshot().summary())
        .containsEntry(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_COORDINATOR_CLAIM);
  }

  /** A catalog that cannot be reached while {@code down}. */
  private static final class Unreachable extends ForwardingTableOperations {
    volatile boolean down;

    Unreachable(TableOperations ops) {
      super(ops);
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      if (down) {
        throw new IllegalStateException("injected: catalog unreachable");
      }
      ops.commit(base, metadata);
    }
  }

  @Test
  void handOversStayPendingWhileTheCatalogFailsAndCommitOnceItAnswers() {
    PartitionClaim c0 = new CommitProtocol(table(), 0, "n0").claim();
    PartitionClaim c1 = new CommitProtocol(table(), 1, "n1").claim();
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    Unreachable ops = new Unreachable(loaded.operations());
    CommitCoordinator coordinator =
        new CommitCoordinator(new BaseTable(ops, loaded.name()), epoch, settings(1 << 20));
    CompletableFuture<HandoverAnswer> a0 = coordinator.handOver(handover(c0, 0, 4));
    CompletableFuture<HandoverAnswer> a1 = coordinator.handOver(handover(c1, 0, 2));
    ops.down = true;

    coordinator.commitPending();

    assertThat(a0).isNotDone();
    assertThat(a1).isNotDone();
    assertThat(coordinator.stats().commitFailures()).isEqualTo(1);
    assertThat(coordinator.stats().pendingHandovers()).isEqualTo(2);
    // the node, tired of waiting, re-sends: it joins the pending range
    CompletableFuture<HandoverAnswer> again = coordinator.handOver(handover(c0, 0, 4));
    ops.down = false;
    coordinator.commitPending();

    long snapshot = table().currentSnapshot().snapshotId();
    assertThat(a0).isCompletedWithValue(new HandoverAnswer.Committed(4, snapshot));
    assertThat(again).isCompletedWithValue(new HandoverAnswer.Committed(4, snapshot));
    assertThat(a1).isCompletedWithValue(new HandoverAnswer.Committed(2, snapshot));
    assertThat(coordinator.stats().pendingHandovers()).isZero();
  }

  @Test
  void theLoopCommitsUrgentHandOversAndCloseAnswersWhatIsLeft() throws Exception {
    PartitionClaim c0 = new CommitProtocol(table(), 0, "n0").claim();
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    CommitCoordinator coordinator =
        new CommitCoordinator(
            table(),
            epoch,
            new CommitCoordinator.Settings(Duration.ofHours(1), Duration.ZERO, 5000, 1 << 20));
    coordinator.start();
    CommitCoordinator.Handover urgent =
        CommitCoordinator.Handover.of(c0, 0, 2, List.of(BatchCommitTest.file(table(), 2)), 2, true);
    // the first hand-over starts a commit at once (none started within the interval)
    assertThat(coordinator.handOver(handover(c0, 0, 2)).get(30, TimeUnit.SECONDS))
        .isInstanceOf(HandoverAnswer.Committed.class);
    // the next is not due for an hour, unless urgent
    CompletableFuture<HandoverAnswer> waiting = coordinator.handOver(handover(c0, 2, 4));
    CompletableFuture<HandoverAnswer> pushed =
        coordinator.handOver(
            CommitCoordinator.Handover.of(
                c0, 4, 6, List.of(BatchCommitTest.file(table(), 2)), 2, true));
    assertThat(pushed.get(30, TimeUnit.SECONDS)).isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(waiting).isCompleted();
    // a re-sent urgent range already committed is answered committed
    assertThat(coordinator.handOver(urgent).get(30, TimeUnit.SECONDS))
        .isInstanceOf(HandoverAnswer.Committed.class);
    CompletableFuture<HandoverAnswer> left =
        coordinator.handOver(handover(new CommitProtocol(table(), 1, "n1").claim(), 0, 1));
    coordinator.close();
    assertThat(left.get(30, TimeUnit.SECONDS))
        .isInstanceOfAny(HandoverAnswer.NotCoordinator.class, HandoverAnswer.Committed.class);
    assertThat(coordinator.active()).isFalse();
  }

  @Test
  void aHandOverHeldUpByTheCatalogIsAnsweredBusyAndStaysPending() throws Exception {
    PartitionClaim c0 = new CommitProtocol(table(), 0, "n0").claim();
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    Unreachable ops = new Unreachable(loaded.operations());
    CommitCoordinator coordinator =
        new CommitCoordinator(
            new BaseTable(ops, loaded.name()),
            epoch,
            new CommitCoordinator.Settings(
                Duration.ofSeconds(2),
                Duration.ZERO,
                5000,
                1 << 20,
                Duration.ofSeconds(1),
                Duration.ofMinutes(30)));
    ops.down = true;
    CompletableFuture<HandoverAnswer> first = coordinator.handOver(handover(c0, 0, 4));
    coordinator.commitPending();

    // alive, but the catalog refuses: the node hears busy (not silence) and hands over again
    assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(new HandoverAnswer.Busy(2000));
    assertThat(coordinator.stats().pendingHandovers()).isEqualTo(1);
    ops.down = false;
    CompletableFuture<HandoverAnswer> again = coordinator.handOver(handover(c0, 0, 4));
    coordinator.commitPending();

    assertThat(again)
        .isCompletedWithValue(
            new HandoverAnswer.Committed(4, table().currentSnapshot().snapshotId()));
  }

  @Test
  void filesPastTheResendLimitAreAnsweredFailedAndNeverCommitted() throws Exception {
    PartitionClaim c0 = new CommitProtocol(table(), 0, "n0").claim();
    PartitionClaim c1 = new CommitProtocol(table(), 1, "n1").claim();
    long epoch = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Duration limit = Duration.ofSeconds(60);
    CommitCoordinator coordinator =
        new CommitCoordinator(
            table(),
            epoch,
            new CommitCoordinator.Settings(
                Duration.ofSeconds(2), Duration.ZERO, 5000, 1 << 20, Duration.ofHours(1), limit));
    // written longer ago than the limit: refused at once
    CompletableFuture<HandoverAnswer> old =
        coordinator.handOver(
            CommitCoordinator.Handover.of(
                c1,
                0,
                2,
                List.of(BatchCommitTest.file(table(), 2)),
                2,
                false,
                limit.toMillis() + 1));
    assertThat(old).isCompleted();
    assertThat(old.get()).isInstanceOf(HandoverAnswer.Failed.class);
    // written just under the limit, then pending past it (the catalog slow, or the loop behind)
    CompletableFuture<HandoverAnswer> aging =
        coordinator.handOver(
            CommitCoordinator.Handover.of(
                c0,
                0,
                3,
                List.of(BatchCommitTest.file(table(), 3)),
                3,
                false,
                limit.toMillis() - 20));
    CompletableFuture<HandoverAnswer> fresh = coordinator.handOver(handover(c1, 0, 2));
    Thread.sleep(50);

    coordinator.commitPending();

    assertThat(aging.get()).isInstanceOf(HandoverAnswer.Failed.class);
    assertThat(((HandoverAnswer.Failed) aging.get()).reason()).contains("resend-limit");
    assertThat(fresh.get()).isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(new CommitProtocol(table(), 0, "n0").committedUnder(c0)).isZero();
    assertThat(coordinator.stats().expiredHandovers()).isEqualTo(2);
    assertThat(coordinator.stats().pendingHandovers()).isZero();
    assertThat(coordinator.stats().pendingBytes()).isZero();
  }
}
