package io.floe.node.buffer;

import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one writer thread takes every batch queued while the previous write was in progress
 * and writes them in one RocksDB WriteBatch, so concurrent requests share one WAL write and one
 * fsync. The queue is bounded upstream by the node's in-flight byte budget.
 *
 * <p>If the writer thread dies of an {@link Error} (out of memory, ...), every request waiting on
 * it and every later one fails at once instead of hanging, and {@code onDeath} is told, so the node
 * stops being ready and exits.
 */
public final class GroupCommitter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);

  /** A request to write, or (its batch null) a key to look up: {@link #remembered}. */
  private record Pending(
      EventBatch batch, DeadLetters dead, IdempotencyKey key, CompletableFuture<Appended> done) {
    long sizeBytes() {
      return batch == null ? 0 : batch.sizeBytes() + (dead == null ? 0 : dead.batch().sizeBytes());
    }
  }

  /** Where the groups go: an atomic append of batches, sequences assigned in order. */
  @FunctionalInterface
  interface BatchAppender {
    List<Appended> append(
        List<EventBatch> batches, List<DeadLetters> dead, List<IdempotencyKey> keys)
        throws Exception;
  }

  /** Where a key's remembered answer is found: see {@link RocksBuffer#remembered}. */
  @FunctionalInterface
  interface KeyLookup {
    Appended remembered(IdempotencyKey key) throws Exception;
  }

  private static final Pending STOP = new Pending(null, null, null, null);

  private final BatchAppender buffer;
  private final KeyLookup lookup;
  private final NodeMetrics metrics;
  private final long maxGroupBytes;
  private final Consumer<Throwable> onDeath;
  private volatile Throwable died;
  private volatile long lastFailureNanos;
  private volatile boolean lastWriteFailed;

  /**
   * How long after a failed write the node reports itself not ready (unless a write succeeds
   * first).
   */
  private static final long FAILING_NANOS = 5_000_000_000L;

  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  public GroupCommitter(RocksBuffer buffer, NodeMetrics metrics, Consumer<Throwable> onDeath) {
    this(buffer::append, buffer::remembered, buffer.config().maxGroupBytes(), metrics, onDeath);
  }

  GroupCommitter(
      BatchAppender buffer, long maxGroupBytes, NodeMetrics metrics, Consumer<Throwable> onDeath) {
    this(buffer, key -> null, maxGroupBytes, metrics, onDeath);
  }

  GroupCommitter(
      BatchAppender buffer,
      KeyLookup lookup,
      long maxGroupBytes,
      NodeMetrics metrics,
      Consumer<Throwable> onDeath) {
    this.buffer = buffer;
    this.lookup = lookup;
    this.metrics = metrics;
    this.maxGroupBytes = maxGroupBytes;
    this.onDeath = onDeath;
    this.thread = new Thread(this::run, "floe-wal-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a batch; the future completes once it is durable (per the durability mode). */
  public CompletableFuture<Appended> submit(EventBatch batch) {
    return submit(batch, null);
  }

  /**
   * Queues a batch with an idempotency key (null for none): a key already remembered completes with
   * the original sequences and nothing is written (see {@link RocksBuffer#append(List, List)}).
   */
  public CompletableFuture<Appended> submit(EventBatch batch, IdempotencyKey key) {
    return submit(batch, null, key);
  }

  /**
   * Queues a request's events and dead letters (null: none), written together: one acknowledgement
   * covers both.
   */
  public CompletableFuture<Appended> submit(
      EventBatch batch, DeadLetters dead, IdempotencyKey key) {
    return queue(new Pending(batch, dead, key, new CompletableFuture<>()));
  }

  /**
   * The answer remembered for {@code key} (see {@link RocksBuffer#remembered}), or null; looked up
   * in turn with the writes, so it sees every write queued before it. Writes nothing.
   */
  public CompletableFuture<Appended> remembered(IdempotencyKey key) {
    return queue(new Pending(null, null, key, new CompletableFuture<>()));
  }

  private CompletableFuture<Appended> queue(Pending pending) {
    CompletableFuture<Appended> done = pending.done();
    if (closed || died != null) {
      done.completeExceptionally(
          new IllegalStateException(
              died != null ? "buffer writer died (" + died + ")" : "buffer writer is closed"));
      return done;
    }
    queue.add(pending);
    if (died != null) {
      failRemaining(); // it died between the check and the add
    }
    return done;
  }

  private void run() {
    List<Pending> group = new ArrayList<>();
    List<Pending> writes = new ArrayList<>();
    List<Pending> lookups = new ArrayList<>();
    List<EventBatch> batches = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      try {
        Pending first = queue.take();
        if (first == STOP) {
          break;
        }
        group.add(first);
        long bytes = first.sizeBytes();
        Pending next;
        while (bytes < maxGroupBytes && (next = queue.poll()) != null) {
          if (next == STOP) {
            stopping = true;
            break;
          }
          group.add(next);
          bytes += next.sizeBytes();
        }
        for (Pending p : group) {
          if (p.batch() == null) {
            lookups.add(p);
          } else {
            writes.add(p);
            batches.add(p.batch());
          }
        }
        if (!writes.isEmpty()) {
          write(writes, batches, bytes);
        }
        lookUp(lookups);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Throwable t) {
        die(t, group);
        return;
      } finally {
        group.clear();
        writes.clear();
        lookups.clear();
        batches.clear();
      }
    }
    failRemaining();
  }

  private void write(List<Pending> group, List<EventBatch> batches, long bytes) {
    long start = System.nanoTime();
    List<Appended> appended;
    List<IdempotencyKey> keys = null;
    List<DeadLetters> dead = null;
    for (int i = 0; i < group.size(); i++) {
      if (group.get(i).dead() != null) {
        if (dead == null) {
          dead = new ArrayList<>(Collections.nCopies(group.size(), null));
        }
        dead.set(i, group.get(i).dead());
      }
      if (group.get(i).key() != null) {
        if (keys == null) {
          keys = new ArrayList<>(Collections.nCopies(group.size(), null));
        }
        keys.set(i, group.get(i).key());
      }
    }
    try {
      appended = buffer.append(batches, dead, keys);
    } catch (Exception e) {
      lastFailureNanos = System.nanoTime();
      lastWriteFailed = true;
      metrics.walWriteFailed();
      LOG.error(
          "buffer write of {} requests ({} bytes) failed; none acknowledged",
          group.size(),
          bytes,
          e);
      for (Pending p : group) {
        p.done().completeExceptionally(e);
      }
      return;
    }
    lastWriteFailed = false;
    metrics.groupWritten(group.size(), bytes, System.nanoTime() - start);
    for (int i = 0; i < group.size(); i++) {
      group.get(i).done().complete(appended.get(i));
    }
  }

  private void lookUp(List<Pending> lookups) {
    for (Pending p : lookups) {
      try {
        p.done().complete(lookup.remembered(p.key()));
      } catch (Exception e) {
        p.done().completeExceptionally(e);
      }
    }
  }

  private void die(Throwable t, List<Pending> group) {
    died = t;
    LOG.error(
        "the buffer writer died; {} requests in its group and all queued ones fail, and the node stops",
        group.size(),
        t);
    try {
      onDeath.accept(t); // first: a client that sees its request fail finds the node not ready
    } finally {
      for (Pending p : group) {
        p.done().completeExceptionally(t);
      }
      failRemaining();
    }
  }

  /**
   * Whether the last write failed less than five seconds ago (a full disk, an I/O error): the node
   * then reports itself not ready so that routers send elsewhere; RocksDB resumes by itself once
   * there is room again, and the next write that succeeds clears it.
   */
  public boolean failing() {
    return lastWriteFailed && System.nanoTime() - lastFailureNanos < FAILING_NANOS;
  }

  /** False once the writer thread died. */
  public boolean alive() {
    return died == null;
  }

  private void failRemaining() {
    Pending p;
    while ((p = queue.poll()) != null) {
      if (p != STOP) {
        p.done().completeExceptionally(new IllegalStateException("buffer writer stopped"));
      }
    }
  }

  /** Writes everything already queued, then stops the writer thread. */
  @Override
  public void close() throws InterruptedException {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(STOP);
    thread.join();
  }
}
