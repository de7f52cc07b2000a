package io.floe.catalog.maintenance;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.UUID;

/**
 * What table maintenance does and how often. Names and defaults are the constants below.
 *
 * @param interval how often a cycle runs ({@code maintenance.interval-seconds}, 300)
 * @param compactAfter how long after a time partition's end it counts as closed and is compacted
 *     ({@code maintenance.compact-after-seconds}, 7200)
 * @param smallFilePercent a data file below this share of the target file size is compacted ({@code
 *     maintenance.small-file-percent}, 75)
 * @param snapshotRetention snapshots younger than this are kept ({@code
 *     maintenance.snapshot-retention-seconds}, 86400)
 * @param minSnapshots at least this many of the newest snapshots are kept ({@code
 *     maintenance.min-snapshots}, 100)
 * @param maxSnapshots at most this many of the newest snapshots are kept, however young; older ones
 *     within the retention survive only as hourly tags ({@code maintenance.max-snapshots}, 1000:
 *     the metadata file, about 1 KB per snapshot, stays near 1 MB whatever the number of nodes)
 * @param orphanAge a file no snapshot references is removed once this old ({@code
 *     maintenance.orphan-age-seconds}, 3 days; at least 2 hours, longer than any flush: a node
 *     commits its uploads within Iceberg's commit retry time, 30 minutes)
 * @param orphanInterval how often the orphan sweep (a listing of the table's location) runs ({@code
 *     maintenance.orphan-interval-seconds}, 21600)
 * @param maxManifests manifests of the current snapshot above which they are rewritten ({@code
 *     maintenance.max-manifests}, 50)
 * @param lease how long a holder's lease lasts without renewal ({@code maintenance.lease-seconds},
 *     900)
 * @param holder this process's name in the lease ({@code maintenance.holder}; default pid@host and
 *     a random suffix, so that each start is a new holder: after a crash the lease is taken over
 *     once it expires, after an orderly stop at once)
 */
public record MaintenanceConfig(
    Duration interval,
    Duration compactAfter,
    int smallFilePercent,
    Duration snapshotRetention,
    int minSnapshots,
    int maxSnapshots,
    Duration orphanAge,
    Duration orphanInterval,
    int maxManifests,
    Duration lease,
    String holder) {

  public static final String ENABLED = "maintenance.enabled";
  public static final boolean ENABLED_DEFAULT = true;
  public static final String INTERVAL = "maintenance.interval-seconds";
  public static final Duration INTERVAL_DEFAULT = Duration.ofMinutes(5);
  public static final String COMPACT_AFTER = "maintenance.compact-after-seconds";
  public static final Duration COMPACT_AFTER_DEFAULT = Duration.ofHours(2);
  public static final String SMALL_FILE_PERCENT = "maintenance.small-file-percent";
  public static final int SMALL_FILE_PERCENT_DEFAULT = 75;
  public static final String SNAPSHOT_RETENTION = "maintenance.snapshot-retention-seconds";
  public static final Duration SNAPSHOT_RETENTION_DEFAULT = Duration.ofDays(1);
  public static final String MIN_SNAPSHOTS = "maintenance.min-snapshots";
  public static final int MIN_SNAPSHOTS_DEFAULT = 100;
  public static final String MAX_SNAPSHOTS = "maintenance.max-snapshots";
  public static final int MAX_SNAPSHOTS_DEFAULT = 1000;
  public static final String ORPHAN_AGE = "maintenance.orphan-age-seconds";
  public static final Duration ORPHAN_AGE_DEFAULT = Duration.ofDays(3);
  public static final Duration MIN_ORPHAN_AGE = Duration.ofHours(2);
  public static final String ORPHAN_INTERVAL = "maintenance.orphan-interval-seconds";
  public static final Duration ORPHAN_INTERVAL_DEFAULT = Duration.ofHours(6);
  public static final String MAX_MANIFESTS = "maintenance.max-manifests";
  public static final int MAX_MANIFESTS_DEFAULT = 50;

  /** Default: {@link #INTERVAL} times 3 when it is not longer than the interval. */
  public static final String LEASE = "maintenance.lease-seconds";

  public static final Duration LEASE_DEFAULT = Duration.ofMinutes(15);

  /** Default: pid@host and a random suffix. */
  public static final String HOLDER = "maintenance.holder";

  public static MaintenanceConfig load(Settings s) {
    Duration interval =
        s.seconds(INTERVAL, INTERVAL_DEFAULT, Duration.ofMillis(100), Duration.ofDays(1));
    Duration lease = s.seconds(LEASE, LEASE_DEFAULT, Duration.ofSeconds(1), Duration.ofDays(1));
    if (lease.compareTo(interval) <= 0 && s.isSet(LEASE)) {
      throw new ConfigException(
          Settings.envName(LEASE)
              + " ("
              + LEASE
              + ") must be longer than "
              + INTERVAL
              + ", or the lease lapses between cycles");
    }
    if (lease.compareTo(interval) <= 0) {
      lease = interval.multipliedBy(3);
    }
    int minSnapshots = s.intValue(MIN_SNAPSHOTS, MIN_SNAPSHOTS_DEFAULT, 1, 1_000_000);
    int maxSnapshots = s.intValue(MAX_SNAPSHOTS, MAX_SNAPSHOTS_DEFAULT, 1, 1_000_000);
    if (maxSnapshots < minSnapshots) {
      throw new ConfigException(
          Settings.envName(MAX_SNAPSHOTS)
              + " ("
              + MAX_SNAPSHOTS
              + "="
              + maxSnapshots
              + ") must not be below "
              + MIN_SNAPSHOTS
              + " ("
              + minSnapshots
              + ")");
    }
    return new MaintenanceConfig(
        interval,
        s.seconds(COMPACT_AFTER, COMPACT_AFTER_DEFAULT, Duration.ZERO, Duration.ofDays(365)),
        s.intValue(SMALL_FILE_PERCENT, SMALL_FILE_PERCENT_DEFAULT, 1, 100),
        s.seconds(
            SNAPSHOT_RETENTION,
            SNAPSHOT_RETENTION_DEFAULT,
            Duration.ofSeconds(1),
            Duration.ofDays(3650)),
        minSnapshots,
        maxSnapshots,
        s.seconds(ORPHAN_AGE, ORPHAN_AGE_DEFAULT, MIN_ORPHAN_AGE, Duration.ofDays(3650)),
        s.seconds(
            ORPHAN_INTERVAL, ORPHAN_INTERVAL_DEFAULT, Duration.ofMillis(100), Duration.ofDays(30)),
        s.intValue(MAX_MANIFESTS, MAX_MANIFESTS_DEFAULT, 2, 1_000_000),
        lease,
        s.string(
            HOLDER,
            ManagementFactory.getRuntimeMXBean().getName()
                + "/"
                + UUID.randomUUID().toString().substring(0, 8)));
  }
}
