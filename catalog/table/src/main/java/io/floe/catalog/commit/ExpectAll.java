package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotAncestryValidator;

/**
 * The commit protocol's validator generalized to a batch of partitions and a coordinator: refuses
 * an attempt unless, in the ancestry it would be committed on, every included partition's newest
 * recorded epoch and committed sequence are the expected ones, and the newest recorded coordinator
 * epoch is the committer's. Runs on every attempt, Iceberg's retries after a concurrent commit (a
 * claim, maintenance) included, and counts them.
 *
 * <p>A key absent from the ancestry (its snapshots expired) passes: the committer checked the table
 * properties, which survive expiry, before the attempt. So does a partition whose newest record is
 * a batch commit at or before the snapshot the attempt was planned on (its state is in the
 * properties the committer read); one after it refuses the attempt: the validator cannot see what
 * it recorded.
 */
final class ExpectAll implements SnapshotAncestryValidator {
  private final long coordinatorEpoch;
  private final Map<Integer, PartitionState> expected;
  private final AtomicLong attempts;
  private final Long plannedOn;
  private String failure = "";

  /**
   * @param expected per included partition, the epoch it must still hold and the committed sequence
   *     its range starts after
   * @param plannedOn the snapshot the expected state was read on (null: the table had none)
   */
  ExpectAll(
      long coordinatorEpoch,
      Map<Integer, PartitionState> expected,
      AtomicLong attempts,
      Long plannedOn) {
    this.coordinatorEpoch = coordinatorEpoch;
    this.expected = Map.copyOf(expected);
    this.attempts = attempts;
    this.plannedOn = plannedOn;
  }

  @Override
  public boolean validate(Iterable<Snapshot> ancestry) {
    attempts.incrementAndGet();
    if (!PartitionState.holds(ancestry, plannedOn)) {
      failure =
          "main no longer holds snapshot "
              + plannedOn
              + ", which this attempt was planned on (was it rolled back?)";
      return false;
    }
    Map<Integer, Long> seenEpoch = new HashMap<>();
    Map<Integer, Long> seenCommitted = new HashMap<>();
    Long seenCoordinator = null;
    int complete = 0;
    boolean planned = false;
    StringBuilder advancedSince = new StringBuilder();
    for (Snapshot s : ancestry) {
      planned |= plannedOn != null && s.snapshotId() == plannedOn;
      Map<String, String> summary = s.summary();
      if (seenCoordinator == null && summary.containsKey(FloeTableKeys.COORDINATOR_EPOCH)) {
        seenCoordinator = Long.parseLong(summary.get(FloeTableKeys.COORDINATOR_EPOCH));
        complete++;
      }
      for (int p : expected.keySet()) {
        String epoch = summary.get(PartitionState.epochKey(p));
        if (epoch != null && !seenEpoch.containsKey(p)) {
          seenEpoch.put(p, Long.parseLong(epoch));
          complete++;
        }
        String committed = summary.get(PartitionState.committedKey(p));
        if (committed != null && !seenCommitted.containsKey(p)) {
          seenCommitted.put(p, Long.parseLong(committed));
          complete++;
        }
        if ((!seenEpoch.containsKey(p) || !seenCommitted.containsKey(p))
            && PartitionState.advancedInProperties(s, p)) {
          if (!planned) {
            advancedSince.append(advancedSince.isEmpty() ? "" : ", ").append(p);
          }
          // settled either way: what the properties held when planned, or refused below
          if (!seenEpoch.containsKey(p)) {
            seenEpoch.put(p, null);
            complete++;
          }
          if (!seenCommitted.containsKey(p)) {
            seenCommitted.put(p, null);
            complete++;
          }
        }
      }
      if (complete == 2 * expected.size() + 1) {
        break;
      }
    }
    if (seenCoordinator != null && seenCoordinator != coordinatorEpoch) {
      failure =
          "coordinator epoch "
              + coordinatorEpoch
              + " was superseded: the table records "
              + seenCoordinator;
      return false;
    }
    if (!advancedSince.isEmpty()) {
      failure =
          "partitions "
              + advancedSince
              + " were advanced by a batch commit since this attempt read the table";
      return false;
    }
    StringBuilder failed = new StringBuilder();
    expected.forEach(
        (p, want) -> {
          Long epoch = seenEpoch.get(p);
          Long committed = seenCommitted.get(p);
          if ((epoch != null && epoch != want.epoch())
              || (committed != null && committed != want.committedSequence())) {
            failed
                .append(failed.isEmpty() ? "" : "; ")
                .append("partition ")
                .append(p)
                .append(": expected epoch ")
                .append(want.epoch())
                .append(" and committed ")
                .append(want.committedSequence())
                .append(", table has epoch ")
                .append(epoch)
                .append(" and committed ")
                .append(committed);
          }
        });
    failure = failed.toString();
    return failure.isEmpty();
  }

  @Override
  public String errorMessage() {
    return failure;
  }
}
