package io.floe.catalog.maintenance;

import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;
import org.apache.iceberg.Table;

/**
 * Which process maintains the table: a lease in the table's properties (holder and expiry), taken
 * when free or expired, renewed by its holder, and taken over when the holder stops renewing (it
 * died). A catalog may apply property changes without comparing them to what the writer read, so
 * two processes racing for a free lease can both write it; each reads it back and only the last
 * writer acts. Exclusivity is for efficiency only: every maintenance commit is validated by Iceberg
 * against concurrent changes, so two holders at once would waste work, never lose data.
 */
final class MaintenanceLease {
  private final String holder;
  private final long leaseMillis;

  /** The holder the table named when this process last looked, or null (none, or not yet read). */
  private volatile String seenHolder;

  MaintenanceLease(String holder, long leaseMillis) {
    this.holder = holder;
    this.leaseMillis = leaseMillis;
  }

  /** Takes or renews the lease; true when this process holds it afterwards. */
  boolean acquire(Table table, long nowMillis) {
    table.refresh();
    Map<String, String> p = table.properties();
    String current = p.get(FloeTableKeys.MAINTENANCE_HOLDER);
    long expires = parse(p.get(FloeTableKeys.MAINTENANCE_LEASE_EXPIRES_MS));
    if (current != null && !current.equals(holder) && expires > nowMillis) {
      seenHolder = current;
      return false;
    }
    table
        .updateProperties()
        .set(FloeTableKeys.MAINTENANCE_HOLDER, holder)
        .set(FloeTableKeys.MAINTENANCE_LEASE_EXPIRES_MS, Long.toString(nowMillis + leaseMillis))
        .commit();
    table.refresh();
    seenHolder = table.properties().get(FloeTableKeys.MAINTENANCE_HOLDER);
    return holder.equals(seenHolder);
  }

  /** Who held the lease when this process last took, renewed or found it taken; null if unknown. */
  String seenHolder() {
    return seenHolder;
  }

  /** Whether this process still holds an unexpired lease, as the table says now. */
  boolean held(Table table, long nowMillis) {
    table.refresh();
    Map<String, String> p = table.properties();
    return holder.equals(p.get(FloeTableKeys.MAINTENANCE_HOLDER))
        && parse(p.get(FloeTableKeys.MAINTENANCE_LEASE_EXPIRES_MS)) > nowMillis;
  }

  /** Gives the lease up (an orderly shutdown), so that another process takes it at once. */
  void release(Table table) {
    table.refresh();
    if (holder.equals(table.properties().get(FloeTableKeys.MAINTENANCE_HOLDER))) {
      table
          .updateProperties()
          .remove(FloeTableKeys.MAINTENANCE_HOLDER)
          .remove(FloeTableKeys.MAINTENANCE_LEASE_EXPIRES_MS)
          .commit();
    }
  }

  private static long parse(String value) {
    try {
      return value == null ? 0 : Long.parseLong(value);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
