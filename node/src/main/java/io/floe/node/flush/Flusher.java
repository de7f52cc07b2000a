package io.floe.node.flush;

import io.floe.catalog.commit.CommitFilesMissingException;
import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.FencedException;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.commit.PartitionView;
import io.floe.common.retry.Backoff;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.columns.ColumnSet;
import io.floe.node.commit.RangeCommitter;
import io.floe.node.metrics.NodeMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background loop that moves acknowledged events from the buffer into the table: cut the range
 * {@code (committed, hwm]} when enough bytes are buffered, when the oldest event reaches the
 * maximum age, or on request; write Parquet files; commit them with the partition's new committed
 * sequence in one transaction; only then delete the range from RocksDB. Failures (S3, catalog) are
 * retried with exponential backoff while ingestion goes on; a fenced node stops for good.
 */
public final class Flusher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);
  private static final Duration RETRY_INITIAL = Duration.ofMillis(500);

  private record Waiter(long target, CompletableFuture<Long> done) {}

  private final RocksBuffer buffer;
  private final CommitProtocol protocol;
  private final RangeCommitter committer;
  private final PartitionClaim claim;
  private final FlushConfig config;
  private final NodeMetrics metrics;
  private final Supplier<ColumnSet> columns;
  private final Runnable onFenced;
  private final Consumer<Throwable> onDeath;

  /** The dead-letter table's half of each round; null: this node keeps no dead letters. */
  private final DeadLetterFlush deadLetters;

  private final ExecutorService writerPool;
  private final TableFileWriter writer;
  private final UploadConcurrency concurrency;
  private final Thread thread;
  private final List<Waiter> waiters = new ArrayList<>();
  private final Object lock = new Object();

  /** Only the flusher thread touches it. */
  private final Backoff retry;

  private long flushes;
  private boolean closed;
  private volatile String lastError;
  private volatile long lastCommitMillis;
  private volatile int consecutiveFailures;
  private volatile boolean fenced;
  private volatile long lagMillis;

  /** The table's settings moved: re-read the table before the next write (the flusher's thread). */
  private volatile boolean tableChanged;

  /** The committed sequence the table holds for this partition, as far as this process knows. */
  private long tableCommitted;

  /**
   * After a failed flush the table may hold more than {@link #tableCommitted}: read it before the
   * next cut.
   */
  private boolean outcomeUnknown;

  /** When an idle flusher next checks that the partition is still its own. */
  private long nextClaimCheckNanos;

  /**
   * @param committer commits a written range (directly, or through the committer role)
   * @param deadLetters flushes the dead letters to their table too (null: none)
   */
  public Flusher(
      RocksBuffer buffer,
      CommitProtocol protocol,
      RangeCommitter committer,
      PartitionClaim claim,
      DeadLetterFlush deadLetters,
      FlushConfig config,
      NodeMetrics metrics,
      Supplier<ColumnSet> columns,
      Runnable onFenced,
      Consumer<Throwable> onDeath) {
    this.deadLetters = deadLetters;
    this.buffer = buffer;
    this.protocol = protocol;
    this.committer = committer;
    this.claim = claim;
    this.config = config;
    this.metrics = metrics;
    this.columns = columns;
    this.onFenced = onFenced;
    this.onDeath = onDeath;
    this.tableCommitted = claim.committedSequence();
    this.retry = Backoff.exponential(RETRY_INITIAL, config.retryMax());
    AtomicInteger n = new AtomicInteger();
    this.writerPool =
        Executors.newFixedThreadPool(
            config.maxConcurrency(),
            r -> {
              Thread t = new Thread(r, "floe-file-writer-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.concurrency = new UploadConcurrency(config.memoryBudget(), config.maxConcurrency());
    this.writer = new TableFileWriter(claim.partitionId(), writerPool, concurrency);
    metrics.watchFlush(
        () -> lagMillis / 1000.0,
        concurrency::permits,
        protocol::attempts,
        protocol::retries,
        protocol::filesMissing);
    this.thread = new Thread(this::run, "floe-flusher");
    thread.setDaemon(true);
    thread.start();
  }

  /** The buffer this flusher empties into the tables. */
  RocksBuffer buffer() {
    return buffer;
  }

  /**
   * The table's settings moved ({@code ColumnWatcher.onSettingsChanged}): the next write re-reads
   * the table first.
   */
  public void tableChanged() {
    tableChanged = true;
  }

  /** Flushes everything acknowledged so far; completes with the committed sequence. */
  public CompletableFuture<Long> flushNow() {
    long target = buffer.highWaterMark();
    CompletableFuture<Long> done = new CompletableFuture<>();
    synchronized (lock) {
      if (fenced) {
        done.completeExceptionally(new FencedException("this node is fenced"));
      } else if (target <= buffer.settledThrough()) {
        done.complete(buffer.settledThrough());
      } else {
        waiters.add(new Waiter(target, done));
        lock.notifyAll();
      }
    }
    return done;
  }

  private void run() {
    nextClaimCheckNanos = System.nanoTime() + config.claimCheck().toNanos();
    boolean flush = false;
    while (true) {
      synchronized (lock) {
        while (!closed && !(flush = due()) && System.nanoTime() < nextClaimCheckNanos) {
          try {
            lock.wait(100);
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
      }
      try {
        if (!flush) {
          checkClaim();
          continue;
        }
        flushOnce();
        nextClaimCheckNanos = System.nanoTime() + config.claimCheck().toNanos();
        retry.reset();
        consecutiveFailures = 0;
        lastError = null;
        completeWaiters(null);
      } catch (FencedException e) {
        fenced = true;
        lastError = e.getMessage();
        LOG.error("flusher stops: {}", e.getMessage());
        completeWaiters(e);
        onFenced.run();
        return;
      } catch (Error e) {
        // out of memory or worse: this loop cannot be trusted to go on; the node stops
        lastError = e.toString();
        LOG.error("the flusher of partition {} died", claim.partitionId(), e);
        completeWaiters(new IllegalStateException("flusher died: " + e));
        onDeath.accept(e);
        return;
      } catch (Exception e) {
        // files missing: the table says committed, but it cannot be read; keep the range
        outcomeUnknown = !(e instanceof CommitFilesMissingException);
        long backoff = retry.nextDelayMillis();
        int failures = retry.failures();
        consecutiveFailures = failures;
        lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
        metrics.flushFailed();
        LOG.warn(
            "flush of partition {} failed (attempt {}), retrying in {} ms; ingestion continues until "
                + "the buffer budget is used",
            claim.partitionId(),
            failures,
            backoff,
            e);
        completeWaiters(e);
        synchronized (lock) {
          try {
            if (!closed) {
              lock.wait(backoff);
            }
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }
  }

  /**
   * An idle node learns that another process claimed its partition within {@code
   * flush.claim-check-seconds} (twice that when the committer's view answers), not only at its next
   * commit, and stops acknowledging writes that could never be committed. A catalog that cannot be
   * reached is not a reason to stop.
   */
  private void checkClaim() {
    nextClaimCheckNanos = System.nanoTime() + config.claimCheck().toNanos();
    try {
      // the cluster's committer sees the table anyway: ask it, and read the table only when it
      // cannot answer or its view names another epoch (a view may lag; the table decides)
      PartitionView view = committer.view(claim.partitionId(), config.claimCheck());
      if (view != null && view.state().epoch() == claim.epoch()) {
        return;
      }
      metrics.tableRead("claim_check");
      protocol.committedUnder(claim);
    } catch (FencedException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn(
          "partition {}: cannot check the claim now ({}); checking again in {} s",
          claim.partitionId(),
          e.getMessage(),
          config.claimCheck().toSeconds());
    }
  }

  private boolean due() {
    lagMillis = measureLag();
    if (!buffer.eventsPending() && !buffer.deadLettersPending()) {
      return false;
    }
    if (!waiters.isEmpty() || buffer.bufferedBytes() >= config.triggerBytes()) {
      return true;
    }
    return lagMillis >= config.maxAge().toMillis();
  }

  private void flushOnce() throws Exception {
    long start = System.nanoTime();
    if (outcomeUnknown) {
      long recorded = protocol.committedUnder(claim);
      if (recorded > tableCommitted) {
        LOG.warn(
            "partition {}: an earlier commit through {} landed although its answer was lost; "
                + "continuing from there",
            claim.partitionId(),
            recorded);
        tableCommitted = recorded;
      }
      outcomeUnknown = false;
    }
    if (tableCommitted > buffer.committedSequence()) {
      // an earlier flush committed but its local delete failed: finish it before cutting again
      buffer.dropThrough(tableCommitted);
    }
    FlushCut cut = FlushCut.read(buffer, config.maxBytesPerFlush());
    if (!cut.isEmpty()) {
      if (tableChanged) {
        // a commit through the committer never refreshes this table: do it now, so that the
        // files are written with the table's current file-writing settings, spec and sort order
        tableChanged = false;
        metrics.tableRead("settings");
        try {
          protocol.table().refresh();
        } catch (RuntimeException e) {
          // not read (the catalog): try again before the next write
          tableChanged = true;
          throw e;
        }
      }
      flushEvents(cut, start);
    }
    if (deadLetters != null) {
      int rows = deadLetters.flushOnce(++flushes);
      if (rows > 0) {
        metrics.deadLettersFlushed(rows);
      }
    }
  }

  /** The events table's half of a round: {@code cut}'s files, committed, then dropped. */
  private void flushEvents(FlushCut cut, long start) throws Exception {
    boolean urgent;
    synchronized (lock) {
      urgent = !waiters.isEmpty();
    }
    TableFileWriter.Written written = writer.write(protocol.table(), columns.get(), cut, ++flushes);
    long writtenNanos = System.nanoTime();
    FaultPoint.AFTER_UPLOAD.reach();
    long committed =
        committer.commit(
            claim,
            new RangeCommitter.Range(
                cut.after(), cut.through(), written.files(), cut.events(), urgent, writtenNanos));
    if (committed != cut.through()) {
      // an attempt given up on landed late: drop through it and cut again (the next round)
      tableCommitted = committed;
      return;
    }
    tableCommitted = cut.through();
    FaultPoint.AFTER_COMMIT.reach();
    buffer.dropCut(cut.after(), cut.through(), cut.bytes());
    lastCommitMillis = System.currentTimeMillis();
    long nanos = System.nanoTime() - start;
    metrics.flushed(cut.events(), cut.bytes(), written.files().size(), written.bytes(), nanos);
    written.files().forEach(f -> metrics.fileWritten(f.fileSizeInBytes()));
    written.mismatches().forEach(metrics::columnMismatches);
    LOG.info(
        "flushed partition {} sequences {}..{}: {} events, {} files, {} bytes of Parquet in {} ms "
            + "({} writers at once)",
        claim.partitionId(),
        cut.after() + 1,
        cut.through(),
        cut.events(),
        written.files().size(),
        written.bytes(),
        nanos / 1_000_000,
        written.concurrency());
  }

  private void completeWaiters(Exception failure) {
    long committed = buffer.settledThrough();
    synchronized (lock) {
      Iterator<Waiter> it = waiters.iterator();
      while (it.hasNext()) {
        Waiter w = it.next();
        if (w.target() <= committed) {
          w.done().complete(committed);
          it.remove();
        } else if (failure != null) {
          w.done().completeExceptionally(failure);
          it.remove();
        }
      }
    }
  }

  private long measureLag() {
    try {
      long oldest = buffer.oldestIngestMicros();
      long oldestDead = buffer.deadLettersPending() ? buffer.oldestDeadLetterIngestMicros() : -1;
      if (oldest < 0 || (oldestDead >= 0 && oldestDead < oldest)) {
        oldest = oldestDead;
      }
      return oldest < 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest / 1000);
    } catch (Exception e) {
      LOG.warn("cannot read the oldest buffered batch", e);
      return lagMillis;
    }
  }

  /**
   * Milliseconds since the oldest unflushed event was accepted (0 when none waits), as of the last
   * check.
   */
  public long lagMillis() {
    return lagMillis;
  }

  public String lastError() {
    return lastError;
  }

  public long lastCommitMillis() {
    return lastCommitMillis;
  }

  /**
   * The snapshot that committed this partition's committed sequence, as far as this process knows,
   * or -1.
   */
  public long committedSnapshotId() {
    return committer.lastSnapshotId();
  }

  public boolean fenced() {
    return fenced;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** Stops the loop (a flush in progress finishes first) and the writer threads. */
  @Override
  public void close() throws InterruptedException {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    // a hand-over still waiting for the committer ends: its range stays in the buffer
    committer.close();
    thread.join(TimeUnit.SECONDS.toMillis(60));
    writerPool.shutdownNow();
    writerPool.awaitTermination(10, TimeUnit.SECONDS);
    synchronized (lock) {
      for (Waiter w : waiters) {
        w.done().completeExceptionally(new IllegalStateException("flusher closed"));
      }
      waiters.clear();
    }
  }
}
