package io.floe.node.columns;

import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.catalog.commit.PartitionView;
import io.floe.catalog.streams.StreamPolicies;
import io.floe.node.metrics.NodeMetrics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the table's typed columns and stream error policies: every {@code
 * columns.refresh-seconds}, on its own thread, asks the cluster's committer which settings version
 * the table holds ({@link PartitionView#settingsVersion}) and re-reads the table (its own table
 * object, so the flusher's is never refreshed under it) only when that differs from the version it
 * read last, or when no committer answers (direct commits; a committer unreachable): in a steady
 * coordinated cluster, nodes do not load the table at all. It publishes a new {@link ColumnSet}
 * when the mappings or the schema changed. Ingestion validates against, and the flusher writes
 * with, whatever {@link #current} returns. A failed refresh keeps the last set and is counted; the
 * next one tries again.
 */
public final class ColumnWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ColumnWatcher.class);

  private final Table table;
  private final Supplier<String> committerVersion;
  private final NodeMetrics metrics;
  private String version;
  private volatile Runnable onSettingsChanged = () -> {};
  private final ScheduledExecutorService timer;
  private volatile ColumnSet current;
  private volatile StreamPolicies policies = StreamPolicies.NONE;
  private List<String> policyProblems = List.of();
  private volatile long refreshedMillis;
  private List<String> problems = List.of();

  /**
   * @param committerVersion the settings version the committer sees now, or null when it cannot
   *     tell (then the table is read)
   */
  public ColumnWatcher(
      Table table, Duration interval, Supplier<String> committerVersion, NodeMetrics metrics) {
    this.table = table;
    this.committerVersion = committerVersion;
    this.metrics = metrics;
    read();
    metrics.watchColumns(() -> current.active().size(), () -> refreshedMillis / 1000.0);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "floe-columns");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        this::follow, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Runs {@code action} (quickly) whenever a read finds the table's settings version moved: the
   * flusher then re-reads its own table before its next write, so that a change to Iceberg's
   * file-writing settings, partition spec or sort order reaches it too.
   */
  public void onSettingsChanged(Runnable action) {
    this.onSettingsChanged = action;
  }

  /** The streams' error policies as of the last refresh (they live in the table too). */
  public StreamPolicies policies() {
    return policies;
  }

  /** The typed columns as of the last refresh. */
  public ColumnSet current() {
    return current;
  }

  /**
   * The timer's step: reads the table unless the committer says its settings are the ones read
   * last.
   */
  public void follow() {
    String told;
    try {
      told = committerVersion.get();
    } catch (RuntimeException e) {
      told = null;
    }
    synchronized (this) {
      if (told != null && told.equals(version)) {
        refreshedMillis = System.currentTimeMillis();
        return;
      }
    }
    refresh();
  }

  /**
   * Reads the table now (an operator's reload; tests). One read at a time: the table object is this
   * watcher's alone.
   */
  public synchronized void refresh() {
    try {
      table.refresh();
      metrics.tableRead("columns");
      read();
    } catch (RuntimeException e) {
      metrics.columnRefreshFailed();
      LOG.warn(
          "cannot refresh the table's typed columns ({}); keeping the {} known",
          e.getMessage(),
          current.active().size());
    }
  }

  private synchronized void read() {
    StreamPolicies readPolicies = StreamPolicies.read(table);
    if (!readPolicies.problems().equals(policyProblems)) {
      policyProblems = readPolicies.problems();
      policyProblems.forEach(p -> LOG.warn("stream policies: {}; that pattern is not followed", p));
    }
    if (!readPolicies.policies().equals(policies.policies())) {
      LOG.info(
          "stream error policies ({}): {}",
          readPolicies.policies().size(),
          readPolicies.policies().stream()
              .map(p -> p.pattern() + " " + p.onError().text())
              .collect(Collectors.joining("; ")));
    }
    policies = readPolicies;
    ColumnMappings.Read read = ColumnMappings.read(table);
    List<ColumnMapping> active = read.active();
    if (!read.problems().equals(problems)) {
      problems = read.problems();
      problems.forEach(p -> LOG.warn("typed columns: {}; that mapping is not filled", p));
    }
    ColumnSet known = current;
    if (known == null
        || table.schema().schemaId() != known.schema().schemaId()
        || !active.equals(known.active())) {
      current = ColumnSet.of(table.schema(), active);
      LOG.info(
          "typed columns ({}): {}",
          active.size(),
          active.isEmpty()
              ? "none"
              : active.stream()
                  .map(
                      m ->
                          m.name()
                              + " "
                              + m.typeText()
                              + " from "
                              + m.pathText()
                              + (m.streams().isEmpty()
                                  ? ""
                                  : " for " + String.join(",", m.streams()))
                              + " on mismatch "
                              + m.onMismatch().text())
                  .collect(Collectors.joining("; ")));
    }
    String now = PartitionView.settingsVersion(table);
    boolean moved = version != null && !version.equals(now);
    version = now;
    if (moved) {
      onSettingsChanged.run();
    }
    refreshedMillis = System.currentTimeMillis();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
