package io.floe.catalog.maintenance;

import io.floe.catalog.table.FloeTableKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.ManageSnapshots;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * Which snapshots the table keeps: every snapshot younger than the retention, but at most the
 * newest {@code maintenance.max-snapshots} of them (the expiry keeps {@code
 * maintenance.min-snapshots} and the current one whatever this says), and one snapshot per hour of
 * the retention as a tag. So the metadata file, which every commit rewrites and every load returns,
 * holds about max-snapshots + retention/1 h snapshots whatever the number of nodes, and time travel
 * still reaches every hour of the retention.
 *
 * <p>The tag {@code floe-hourly-<yyyyMMddHH>} (UTC, {@link FloeTableKeys#hourlyTag}) marks the
 * snapshot that was current at the end of that hour: the newest one of the main branch's unbroken
 * ancestry committed before the hour ended. An hour is tagged once it ended a minute ago (commits
 * under way at the hour's end have landed; Iceberg allows the same minute of clock skew), always
 * before the expiry that could remove its snapshot. Its max ref age is the retention: Iceberg's
 * expiry drops the tag, and then its snapshot, once the snapshot is older than that. An hour whose
 * state left the unbroken ancestry before it was tagged (maintenance was off meanwhile), or is
 * older than the retention, gets no tag.
 */
final class SnapshotRetention {
  private static final long HOUR = Duration.ofHours(1).toMillis();
  private static final long SETTLE = Duration.ofMinutes(1).toMillis();

  private final long retention;
  private final int maxSnapshots;

  SnapshotRetention(Duration retention, int maxSnapshots) {
    this.retention = retention.toMillis();
    this.maxSnapshots = maxSnapshots;
  }

  /** Tags the hours of the retention that ended and have no tag yet; answers how many it tagged. */
  int tagHours(Table t, long now) {
    t.refresh();
    List<Snapshot> ancestry = ancestry(t);
    Map<String, SnapshotRef> refs = t.refs();
    ManageSnapshots update = null;
    int tagged = 0;
    int i = 0;
    for (long end = (now - SETTLE) / HOUR * HOUR; end > now - retention; end -= HOUR) {
      while (i < ancestry.size() && ancestry.get(i).timestampMillis() >= end) {
        i++;
      }
      if (i == ancestry.size() || ancestry.get(i).timestampMillis() < now - retention) {
        break;
      }
      String name = FloeTableKeys.hourlyTag(Instant.ofEpochMilli(end - HOUR));
      if (!refs.containsKey(name)) {
        update = update == null ? t.manageSnapshots() : update;
        update.createTag(name, ancestry.get(i).snapshotId()).setMaxRefAgeMs(name, retention);
        tagged++;
      }
    }
    if (update != null) {
      update.commit();
    }
    return tagged;
  }

  /**
   * The time before which snapshots expire: the retention's start, or, when more than max-snapshots
   * are newer ({@code bounded}), the oldest of the newest max-snapshots.
   */
  long expireBefore(Table t, long now, boolean bounded) {
    long before = now - retention;
    if (bounded) {
      List<Snapshot> ancestry = ancestry(t);
      if (ancestry.size() > maxSnapshots) {
        long oldestKept = Long.MAX_VALUE;
        for (Snapshot s : ancestry.subList(0, maxSnapshots)) {
          oldestKept = Math.min(oldestKept, s.timestampMillis());
        }
        before = Math.max(before, oldestKept);
      }
    }
    return before;
  }

  /** The main branch's unbroken ancestry, newest first. */
  private static List<Snapshot> ancestry(Table t) {
    List<Snapshot> out = new ArrayList<>();
    Snapshot current = t.currentSnapshot();
    if (current != null) {
      SnapshotUtil.ancestorsOf(current.snapshotId(), t::snapshot).forEach(out::add);
    }
    return out;
  }
}
