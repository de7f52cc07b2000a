package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.table.FloeTableKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * The committer role as the coordinated cluster tests watch it in the table: who holds it, the
 * batch commits, each partition's committed sequence.
 */
final class RoleWatch {
  private final Table table;

  RoleWatch(Table table) {
    this.table = table;
  }

  Table table() {
    return table;
  }

  /** The role as the table records it, once some node holds it (at most three minutes). */
  CoordinatorClaim.Coordinator coordinator() throws Exception {
    return coordinatorAbove(0, Duration.ofSeconds(180));
  }

  /** The role once a claim above {@code epoch} landed, waiting for it up to {@code limit}. */
  CoordinatorClaim.Coordinator coordinatorAbove(long epoch, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      table.refresh();
      CoordinatorClaim.Coordinator c = CoordinatorClaim.current(table);
      if (c.epoch() > epoch) {
        return c;
      }
      assertThat(System.nanoTime())
          .as("a node claims the committer role above epoch %d", epoch)
          .isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /** The partition's committed sequence as the table records it now. */
  long committed(int partition) {
    table.refresh();
    return Long.parseLong(
        table.properties().getOrDefault(FloeTableKeys.partitionCommittedSequence(partition), "0"));
  }

  /**
   * The first batch commit under a coordinator epoch above {@code epoch} that lands, waiting for it
   * up to {@code limit}; null when none did.
   */
  Snapshot firstCommitAbove(long epoch, Duration limit) throws Exception {
    return firstFlush(
        s -> Long.parseLong(s.summary().get(FloeTableKeys.COORDINATOR_EPOCH)) > epoch, limit);
  }

  /**
   * The first batch commit stamped at or after {@code millis} (epoch millis) that lands, waiting
   * for it up to {@code limit}; null when none did.
   */
  Snapshot firstFlushSince(long millis, Duration limit) throws Exception {
    return firstFlush(s -> s.timestampMillis() >= millis, limit);
  }

  private Snapshot firstFlush(Predicate<Snapshot> which, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      table.refresh();
      Snapshot first = null;
      for (Snapshot s : flushes()) {
        if (which.test(s)) {
          first = s;
        }
      }
      if (first != null) {
        return first;
      }
      Thread.sleep(100);
    }
    return null;
  }

  /** The batch commits of the current ancestry, newest first. */
  List<Snapshot> flushes() {
    List<Snapshot> out = new ArrayList<>();
    for (Snapshot s : recordingEpochs()) {
      if (FloeTableKeys.OPERATION_FLUSH.equals(s.summary().get(FloeTableKeys.OPERATION))) {
        out.add(s);
      }
    }
    return out;
  }

  /** The snapshots of the current ancestry that record a coordinator epoch, newest first. */
  List<Snapshot> recordingEpochs() {
    List<Snapshot> out = new ArrayList<>();
    for (Snapshot s = table.currentSnapshot();
        s != null;
        s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      if (s.summary().containsKey(FloeTableKeys.COORDINATOR_EPOCH)) {
        out.add(s);
      }
    }
    return out;
  }
}
