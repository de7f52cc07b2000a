package io.floe.catalog.commit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committer's core, free of any transport: a queue of hand-overs, a commit loop that commits
 * everything pending in one {@link BatchCommit} at a time, and one answer per hand-over.
 *
 * <p>A node's flusher hands over a range it wrote ({@link #handOver}) and waits on the returned
 * future; a node's HTTP route feeds decoded hand-overs ({@link HandoverCodec}) into the same
 * method. The loop starts a commit when something is pending and the previous one started at least
 * {@link Settings#interval} ago; an urgent hand-over or {@link Settings#maxFiles} pending files
 * start it sooner, but never within {@link Settings#urgentSpacing} of the previous start. One
 * commit is in flight at a time and takes at most {@code maxFiles} files (at least one hand-over).
 *
 * <p>State is soft: a node drops its events only once the table records them committed, so whatever
 * this holds when it dies costs a re-send. A re-send of a pending range joins it; a re-send of a
 * committed one is answered committed by the next plan. While the catalog fails, hand-overs stay
 * pending (above {@link Settings#maxPendingBytes} new ones are answered {@link
 * HandoverAnswer.Busy}); once a newer coordinator claim fences this one, or it is closed, every
 * hand-over is answered {@link HandoverAnswer.NotCoordinator}.
 */
public final class CommitCoordinator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CommitCoordinator.class);
  private static final long MIN_RETRY_MILLIS = 200;

  /**
   * @param interval a commit starts at most this often, except for urgent or large batches
   * @param urgentSpacing the least time between two commit starts
   * @param maxFiles files in one commit; as many pending start a commit sooner
   * @param maxPendingBytes above this many pending bytes, new hand-overs are answered busy
   * @param answerWithin a hand-over still undecided after this long is answered {@link
   *     HandoverAnswer.Busy} (it stays pending; the node hands it over again and joins it), so that
   *     a committer held up by the catalog is never taken for a silent one; below the nodes' {@code
   *     commit.handover-timeout-seconds}
   * @param resendLimit a hand-over whose files were written longer ago than this is dropped and
   *     answered {@link HandoverAnswer.Failed} instead of committed: its node writes the range anew
   *     (the nodes' {@code commit.resend-limit-seconds}, far below the orphan age)
   */
  public record Settings(
      Duration interval,
      Duration urgentSpacing,
      int maxFiles,
      long maxPendingBytes,
      Duration answerWithin,
      Duration resendLimit) {
    public static final Duration INTERVAL_DEFAULT = Duration.ofSeconds(2);
    public static final Duration URGENT_SPACING_DEFAULT = Duration.ofMillis(250);
    public static final int MAX_FILES_DEFAULT = 5_000;
    public static final long MAX_PENDING_BYTES_DEFAULT = 1L << 30;
    public static final Duration ANSWER_WITHIN_DEFAULT = Duration.ofSeconds(5);
    public static final Duration RESEND_LIMIT_DEFAULT = Duration.ofMinutes(30);

    public Settings {
      if (interval.isNegative()
          || urgentSpacing.isNegative()
          || maxFiles < 1
          || maxPendingBytes < 1
          || answerWithin.isNegative()
          || answerWithin.isZero()
          || resendLimit.isNegative()
          || resendLimit.isZero()) {
        throw new IllegalArgumentException(
            "coordinator settings out of range: interval "
                + interval
                + ", urgent spacing "
                + urgentSpacing
                + ", max files "
                + maxFiles
                + ", max pending bytes "
                + maxPendingBytes
                + ", answer within "
                + answerWithin
                + ", resend limit "
                + resendLimit);
      }
    }

    /** These settings, answering within and dropping after the defaults. */
    public Settings(Duration interval, Duration urgentSpacing, int maxFiles, long maxPendingBytes) {
      this(
          interval,
          urgentSpacing,
          maxFiles,
          maxPendingBytes,
          ANSWER_WITHIN_DEFAULT,
          RESEND_LIMIT_DEFAULT);
    }

    public static Settings defaults() {
      return new Settings(
          INTERVAL_DEFAULT, URGENT_SPACING_DEFAULT, MAX_FILES_DEFAULT, MAX_PENDING_BYTES_DEFAULT);
    }
  }

  /**
   * A node's range {@code (after, through]} of {@code partition}, written under its claim's {@code
   * epoch} into {@code files}.
   *
   * @param events how many events the range holds (recorded in the summary)
   * @param bytes the files' size, counted against the pending cap
   * @param urgent a flush someone waits for ({@code POST /v1/flush}): commit soon
   * @param ageMillis how long ago the files were written, as the node says (0: unknown, counted
   *     from arrival): past {@link Settings#resendLimit} they are never committed
   */
  public record Handover(
      int partition,
      long epoch,
      long after,
      long through,
      List<DataFile> files,
      long events,
      long bytes,
      boolean urgent,
      long ageMillis) {
    public Handover {
      files = List.copyOf(files);
      if (through <= after) {
        throw new IllegalArgumentException(
            "hand-over of partition " + partition + " is empty: (" + after + ", " + through + "]");
      }
      ageMillis = Math.max(0, ageMillis);
    }

    /** A hand-over whose files' age is not known (counted from its arrival). */
    public Handover(
        int partition,
        long epoch,
        long after,
        long through,
        List<DataFile> files,
        long events,
        long bytes,
        boolean urgent) {
      this(partition, epoch, after, through, files, events, bytes, urgent, 0);
    }

    /** The hand-over of {@code files} holding {@code (after, through]} under {@code claim}. */
    public static Handover of(
        PartitionClaim claim,
        long after,
        long through,
        List<DataFile> files,
        long events,
        boolean urgent) {
      return of(claim, after, through, files, events, urgent, 0);
    }

    /**
     * {@link #of(PartitionClaim, long, long, List, long, boolean)}, written {@code ageMillis} ago.
     */
    public static Handover of(
        PartitionClaim claim,
        long after,
        long through,
        List<DataFile> files,
        long events,
        boolean urgent,
        long ageMillis) {
      long bytes = files.stream().mapToLong(DataFile::fileSizeInBytes).sum();
      return new Handover(
          claim.partitionId(),
          claim.epoch(),
          after,
          through,
          files,
          events,
          bytes,
          urgent,
          ageMillis);
    }

    private Key key() {
      return new Key(partition, epoch, after, through);
    }
  }

  /**
   * What the coordinator has done, for metrics.
   *
   * @param commits batch commits that landed
   * @param attempts commit attempts (validator runs), Iceberg's retries included
   * @param commitFailures commits that failed as a whole (the catalog unreachable); their
   *     hand-overs stayed pending
   * @param partitionsAdvanced partitions advanced, summed over all commits (÷ commits: per commit)
   * @param lastPartitionsPerCommit partitions the last landed commit advanced
   * @param pendingHandovers hand-overs waiting for a commit
   * @param pendingBytes their bytes
   * @param epoch this coordinator's epoch
   * @param active whether it still takes hand-overs (not fenced, not closed)
   * @param expiredHandovers hand-overs refused or dropped uncommitted because their files passed
   *     the resend limit (answered failed; their nodes write the ranges anew)
   * @param viewLoads table loads made to answer nodes' view requests ({@link #view})
   */
  public record Stats(
      long commits,
      long attempts,
      long commitFailures,
      long partitionsAdvanced,
      int lastPartitionsPerCommit,
      int pendingHandovers,
      long pendingBytes,
      long epoch,
      boolean active,
      long expiredHandovers,
      long viewLoads,
      BatchCommit.TableShape table) {}

  private record Key(int partition, long epoch, long after, long through) {}

  private static final class Entry {
    final Handover handover;
    final List<CompletableFuture<HandoverAnswer>> waiting = new ArrayList<>();

    /** When its files pass the resend limit ({@link System#nanoTime}). */
    final long expiresNanos;

    Entry(Handover handover, long expiresNanos) {
      this.handover = handover;
      this.expiresNanos = expiresNanos;
    }
  }

  private final BatchCommit batch;
  private final long epoch;
  private final Settings settings;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<Key, Entry> pending = new LinkedHashMap<>();
  private long pendingBytes;
  private long pendingFiles;
  private int pendingUrgent;
  private boolean active = true;
  private long fencedBy = -1;
  private long lastStartNanos;
  private boolean started;
  private Thread loop;
  private final AtomicLong commitFailures = new AtomicLong();
  private final AtomicLong expiredHandovers = new AtomicLong();
  private final AtomicLong partitionsAdvanced = new AtomicLong();
  private volatile int lastPartitionsPerCommit;

  /**
   * The table as this coordinator last saw it, read or written no earlier than {@code asOfNanos}
   * ({@link System#nanoTime}): what {@link #view} answers from.
   */
  private record Seen(TableMetadata metadata, long asOfNanos) {}

  private final AtomicReference<Seen> seen = new AtomicReference<>();
  private final Object viewLoad = new Object();
  private final AtomicLong viewLoads = new AtomicLong();

  /** When a view load last failed ({@link System#nanoTime}, never 0), or 0; under viewLoad. */
  private long viewFailedNanos;

  private static final Duration VIEW_FAILURE_MEMORY = Duration.ofSeconds(1);

  /**
   * @param table the table, loaded through this process's catalog client
   * @param epoch the coordinator epoch this process won ({@link CoordinatorClaim#claim})
   */
  public CommitCoordinator(Table table, long epoch, Settings settings) {
    this.batch = new BatchCommit(table);
    this.epoch = epoch;
    this.settings = settings;
    this.lastStartNanos = System.nanoTime() - settings.interval().toNanos();
    // the table was loaded just before: as fresh as a view needs to be for now
    publish(batch.metadata(), System.nanoTime());
  }

  /** Starts the commit loop on its own thread. */
  public void start() {
    lock.lock();
    try {
      if (started) {
        return;
      }
      started = true;
      loop = new Thread(this::run, "floe-coordinator-" + epoch);
      loop.setDaemon(true);
      loop.start();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a hand-over; the future completes with its answer once a commit decided it (or at once:
   * busy, not the coordinator). A re-send of a range still pending joins it.
   */
  public CompletableFuture<HandoverAnswer> handOver(Handover h) {
    CompletableFuture<HandoverAnswer> answer = new CompletableFuture<>();
    // undecided for long (the catalog refuses or is slow): say so, so the node does not take this
    // committer for a silent one; the range stays pending, and the node's re-send joins it
    answer.completeOnTimeout(
        new HandoverAnswer.Busy(Math.max(MIN_RETRY_MILLIS, settings.interval().toMillis())),
        settings.answerWithin().toMillis(),
        TimeUnit.MILLISECONDS);
    lock.lock();
    try {
      if (!active) {
        answer.complete(new HandoverAnswer.NotCoordinator(Math.max(epoch, fencedBy)));
        return answer;
      }
      Entry same = pending.get(h.key());
      if (same != null) {
        same.waiting.removeIf(CompletableFuture::isDone);
        same.waiting.add(answer);
        return answer;
      }
      if (!pending.isEmpty() && pendingBytes + h.bytes() > settings.maxPendingBytes()) {
        answer.complete(new HandoverAnswer.Busy(settings.interval().toMillis()));
        return answer;
      }
      long expires =
          System.nanoTime()
              + settings.resendLimit().toNanos()
              - TimeUnit.MILLISECONDS.toNanos(h.ageMillis());
      if (expires - System.nanoTime() <= 0) {
        expiredHandovers.incrementAndGet();
        answer.complete(expired(h));
        return answer;
      }
      Entry e = new Entry(h, expires);
      e.waiting.add(answer);
      pending.put(h.key(), e);
      pendingBytes += h.bytes();
      pendingFiles += h.files().size();
      pendingUrgent += h.urgent() ? 1 : 0;
      changed.signalAll();
      return answer;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Commits what is pending now, whatever the interval (the loop's step; also for a caller without
   * the loop, such as a test or an orderly stop).
   *
   * @return whether anything was pending
   */
  public boolean commitPending() {
    List<Entry> taken = take();
    if (taken.isEmpty()) {
      return false;
    }
    commit(taken);
    return true;
  }

  private void run() {
    try {
      while (true) {
        lock.lock();
        try {
          while (active && !due()) {
            long wait = nanosUntilDue();
            if (wait > 0) {
              changed.awaitNanos(wait);
            }
          }
          if (!active) {
            return;
          }
        } finally {
          lock.unlock();
        }
        commitPending();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("the coordinator's commit loop stopped", e);
      stop(epoch);
    }
  }

  /** Whether a commit should start now (under the lock). */
  private boolean due() {
    return !pending.isEmpty() && nanosUntilDue() <= 0;
  }

  private long nanosUntilDue() {
    if (pending.isEmpty()) {
      return TimeUnit.SECONDS.toNanos(1);
    }
    Duration gap =
        pendingUrgent > 0 || pendingFiles >= settings.maxFiles()
            ? settings.urgentSpacing()
            : settings.interval();
    return lastStartNanos + gap.toNanos() - System.nanoTime();
  }

  /** Takes the oldest pending hand-overs, up to the file cap (at least one). */
  private List<Entry> take() {
    lock.lock();
    try {
      List<Entry> taken = new ArrayList<>();
      long files = 0;
      long now = System.nanoTime();
      Iterator<Entry> it = pending.values().iterator();
      while (it.hasNext()) {
        Entry e = it.next();
        int n = e.handover.files().size();
        if (e.expiresNanos - now <= 0) {
          // its node writes the range anew: these files may be deleted as orphans before long
          it.remove();
          pendingBytes -= e.handover.bytes();
          pendingFiles -= n;
          pendingUrgent -= e.handover.urgent() ? 1 : 0;
          expiredHandovers.incrementAndGet();
          HandoverAnswer failed = expired(e.handover);
          LOG.warn(
              "hand-over of partition {} sequences {}..{} dropped: {}",
              e.handover.partition(),
              e.handover.after() + 1,
              e.handover.through(),
              ((HandoverAnswer.Failed) failed).reason());
          e.waiting.forEach(f -> f.complete(failed));
          continue;
        }
        if (!taken.isEmpty() && files + n > settings.maxFiles()) {
          break;
        }
        it.remove();
        taken.add(e);
        files += n;
        pendingBytes -= e.handover.bytes();
        pendingFiles -= n;
        pendingUrgent -= e.handover.urgent() ? 1 : 0;
      }
      if (!taken.isEmpty()) {
        lastStartNanos = System.nanoTime();
      }
      return taken;
    } finally {
      lock.unlock();
    }
  }

  private void commit(List<Entry> taken) {
    List<BatchCommit.Range> ranges = new ArrayList<>(taken.size());
    for (Entry e : taken) {
      Handover h = e.handover;
      ranges.add(
          new BatchCommit.Range(
              h.partition(), h.epoch(), h.after(), h.through(), h.files(), h.events()));
    }
    List<HandoverAnswer> answers;
    long commitsBefore = batch.commits();
    long began = System.nanoTime();
    try {
      answers = batch.commit(epoch, ranges);
    } catch (CoordinatorFencedException e) {
      LOG.warn(
          "coordinator epoch {} fenced: {}; this process stops committing", epoch, e.getMessage());
      stop(e.tableEpoch());
      HandoverAnswer not = new HandoverAnswer.NotCoordinator(e.tableEpoch());
      taken.forEach(entry -> entry.waiting.forEach(f -> f.complete(not)));
      return;
    } catch (RuntimeException e) {
      // the catalog unreachable, or the outcome unknown: the next plan tells what landed
      commitFailures.incrementAndGet();
      LOG.warn("batch commit of {} hand-overs failed; they stay pending", taken.size(), e);
      requeue(taken);
      return;
    }
    if (batch.commits() > commitsBefore) {
      // a commit landed: its metadata was current when it landed, after this call began (a call
      // that landed nothing may answer from metadata older than that, and is not published)
      publish(batch.metadata(), began);
      int advanced =
          (int)
              IntStream.range(0, taken.size())
                  .filter(i -> answers.get(i) instanceof HandoverAnswer.Committed)
                  .map(i -> taken.get(i).handover.partition())
                  .distinct()
                  .count();
      lastPartitionsPerCommit = advanced;
      partitionsAdvanced.addAndGet(advanced);
    }
    for (int i = 0; i < taken.size(); i++) {
      HandoverAnswer a = answers.get(i);
      taken.get(i).waiting.forEach(f -> f.complete(a));
    }
  }

  private void requeue(List<Entry> taken) {
    lock.lock();
    try {
      if (!active) {
        HandoverAnswer not = new HandoverAnswer.NotCoordinator(Math.max(epoch, fencedBy));
        taken.forEach(e -> e.waiting.forEach(f -> f.complete(not)));
        return;
      }
      Map<Key, Entry> rest = new LinkedHashMap<>(pending);
      pending.clear();
      for (Entry e : taken) {
        pending.put(e.handover.key(), e);
        pendingBytes += e.handover.bytes();
        pendingFiles += e.handover.files().size();
        pendingUrgent += e.handover.urgent() ? 1 : 0;
      }
      rest.forEach(
          (k, e) -> {
            Entry first = pending.get(k);
            if (first == null) {
              pending.put(k, e);
            } else {
              // a re-send that arrived while the first was in flight
              first.waiting.addAll(e.waiting);
              pendingBytes -= e.handover.bytes();
              pendingFiles -= e.handover.files().size();
              pendingUrgent -= e.handover.urgent() ? 1 : 0;
            }
          });
    } finally {
      lock.unlock();
    }
  }

  private HandoverAnswer expired(Handover h) {
    return new HandoverAnswer.Failed(
        "its files were written more than "
            + settings.resendLimit().toSeconds()
            + " s ago (commit.resend-limit-seconds): they are never committed, the node writes"
            + " the range anew");
  }

  /** Stops taking hand-overs and answers every pending one {@code NotCoordinator}. */
  private void stop(long tableEpoch) {
    lock.lock();
    try {
      active = false;
      fencedBy = Math.max(fencedBy, tableEpoch);
      HandoverAnswer not = new HandoverAnswer.NotCoordinator(Math.max(epoch, fencedBy));
      pending.values().forEach(e -> e.waiting.forEach(f -> f.complete(not)));
      pending.clear();
      pendingBytes = 0;
      pendingFiles = 0;
      pendingUrgent = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Whether this coordinator still takes hand-overs: not fenced by a newer claim, not closed. */
  public boolean active() {
    lock.lock();
    try {
      return active;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The committer's table's partition specs, by id: what {@link HandoverCodec#decode} reads a
   * hand-over's files with.
   */
  public Map<Integer, PartitionSpec> specs() {
    return batch.table().specs();
  }

  /**
   * {@code partition}'s epoch and committed sequence and the table's settings version, as this
   * coordinator saw the table at most {@code maxAge} ago: from its own last commit when that is
   * recent enough (a busy cluster: no table load at all), else from one table load through {@code
   * load}, shared by every caller that asks meanwhile (an idle cluster: at most one load per {@code
   * maxAge}, however many nodes ask: callers that waited for a load take its answer, and a failed
   * load is answered at once for a second). Answers nodes' claim checks and settings checks, so
   * that they need not load the table themselves.
   *
   * @throws RuntimeException when the view is stale and the table cannot be loaded (the catalog)
   */
  public PartitionView view(int partition, Duration maxAge, Supplier<Table> load) {
    Seen s = seen.get();
    if (System.nanoTime() - s.asOfNanos() > maxAge.toNanos()) {
      long loadsBefore = viewLoads.get();
      synchronized (viewLoad) {
        s = seen.get();
        long now = System.nanoTime();
        if (viewLoads.get() != loadsBefore || now - s.asOfNanos() <= maxAge.toNanos()) {
          // a load finished while this caller waited: its answer is as fresh as one can have
          return PartitionView.of(s.metadata(), partition);
        }
        if (viewFailedNanos != 0 && now - viewFailedNanos < VIEW_FAILURE_MEMORY.toNanos()) {
          // the catalog failed a moment ago: say so at once instead of queueing another try
          throw new IllegalStateException("the table could not be loaded a moment ago");
        }
        long asOf = System.nanoTime();
        Table t;
        try {
          t = load.get();
        } catch (RuntimeException e) {
          viewFailedNanos = System.nanoTime() | 1;
          throw e;
        }
        viewFailedNanos = 0;
        publish(((HasTableOperations) t).operations().current(), asOf);
        viewLoads.incrementAndGet();
        s = seen.get();
      }
    }
    return PartitionView.of(s.metadata(), partition);
  }

  /** Table loads made to answer {@link #view} (the busy cluster's views come from commits). */
  public long viewLoads() {
    return viewLoads.get();
  }

  /** Keeps whichever of the known and the given metadata was read later. */
  private void publish(TableMetadata metadata, long asOfNanos) {
    Seen fresh = new Seen(metadata, asOfNanos);
    seen.accumulateAndGet(
        fresh,
        (old, given) -> old == null || given.asOfNanos() - old.asOfNanos() >= 0 ? given : old);
  }

  /** This coordinator's epoch. */
  public long epoch() {
    return epoch;
  }

  public Stats stats() {
    lock.lock();
    try {
      return new Stats(
          batch.commits(),
          batch.attempts(),
          commitFailures.get(),
          partitionsAdvanced.get(),
          lastPartitionsPerCommit,
          pending.size(),
          pendingBytes,
          epoch,
          active,
          expiredHandovers.get(),
          viewLoads.get(),
          batch.shape());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Steps down: the commit in flight finishes (its hand-overs get their answers), every pending
   * hand-over is answered {@link HandoverAnswer.NotCoordinator}, and the loop ends.
   */
  @Override
  public void close() {
    stop(epoch);
    Thread t;
    lock.lock();
    try {
      t = loop;
    } finally {
      lock.unlock();
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(TimeUnit.MINUTES.toMillis(1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
