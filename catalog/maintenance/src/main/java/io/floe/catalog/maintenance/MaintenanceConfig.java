package io.floe.catalog.maintenance;

import io.floe.common.config.Settings;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * What table maintenance does and how often.
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
    Duration orphanAge,
    Duration orphanInterval,
    int maxManifests,
    Duration lease,
    String holder) {

  public static final String ENABLED = "maintenance.enabled";
  public static final Duration MIN_ORPHAN_AGE = Duration.ofHours(2);

  public static MaintenanceConfig load(Settings s) {
    Duration interval =
        s.seconds(
            "maintenance.interval-seconds",
            Duration.ofMinutes(5),
            Duration.ofMillis(100),
            Duration.ofDays(1));
    Duration lease =
        s.seconds(
            "maintenance.lease-seconds",
            Duration.ofMinutes(15),
            Duration.ofSeconds(1),
            Duration.ofDays(1));
    if (lease.compareTo(interval) <= 0 && s.isSet("maintenance.lease-seconds")) {
      throw new io.floe.common.config.ConfigException(
          Settings.envName("maintenance.lease-seconds")
              + " (maintenance.lease-seconds) must be longer than maintenance.interval-seconds, or the lease lapses between cycles");
    }
    if (lease.compareTo(interval) <= 0) {
      lease = interval.multipliedBy(3);
    }
    return new MaintenanceConfig(
        interval,
        s.seconds(
            "maintenance.compact-after-seconds",
            Duration.ofHours(2),
            Duration.ZERO,
            Duration.ofDays(365)),
        s.intValue("maintenance.small-file-percent", 75, 1, 100),
        s.seconds(
            "maintenance.snapshot-retention-seconds",
            Duration.ofDays(1),
            Duration.ofSeconds(1),
            Duration.ofDays(3650)),
        s.intValue("maintenance.min-snapshots", 100, 1, 1_000_000),
        s.seconds(
            "maintenance.orphan-age-seconds",
            Duration.ofDays(3),
            MIN_ORPHAN_AGE,
            Duration.ofDays(3650)),
        s.seconds(
            "maintenance.orphan-interval-seconds",
            Duration.ofHours(6),
            Duration.ofMillis(100),
            Duration.ofDays(30)),
        s.intValue("maintenance.max-manifests", 50, 2, 1_000_000),
        lease,
        s.string(
            "maintenance.holder",
            ManagementFactory.getRuntimeMXBean().getName()
                + "/"
                + java.util.UUID.randomUUID().toString().substring(0, 8)));
  }
}
