package io.floe.node.buffer;

import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one writer thread takes every batch queued while the previous write was in
 * progress and writes them in one RocksDB WriteBatch, so concurrent requests share one WAL write
 * and one fsync. The queue is bounded upstream by the node's in-flight byte budget.
 */
public final class GroupCommitter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);

  private record Pending(EventBatch batch, CompletableFuture<RocksBuffer.Appended> done) {}

  private static final Pending STOP = new Pending(null, null);

  private final RocksBuffer buffer;
  private final NodeMetrics metrics;
  private final long maxGroupBytes;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  public GroupCommitter(RocksBuffer buffer, NodeMetrics metrics) {
    this.buffer = buffer;
    this.metrics = metrics;
    this.maxGroupBytes = buffer.config().maxGroupBytes();
    this.thread = new Thread(this::run, "floe-wal-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a batch; the future completes once it is durable (per the durability mode). */
  public CompletableFuture<RocksBuffer.Appended> submit(EventBatch batch) {
    CompletableFuture<RocksBuffer.Appended> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("buffer writer is closed"));
      return done;
    }
    queue.add(new Pending(batch, done));
    return done;
  }

  private void run() {
    List<Pending> group = new ArrayList<>();
    List<EventBatch> batches = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      try {
        Pending first = queue.take();
        if (first == STOP) {
          break;
        }
        group.add(first);
        long bytes = first.batch().sizeBytes();
        Pending next;
        while (bytes < maxGroupBytes && (next = queue.poll()) != null) {
          if (next == STOP) {
            stopping = true;
            break;
          }
          group.add(next);
          bytes += next.batch().sizeBytes();
        }
        for (Pending p : group) {
          batches.add(p.batch());
        }
        write(group, batches, bytes);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        group.clear();
        batches.clear();
      }
    }
    failRemaining();
  }

  private void write(List<Pending> group, List<EventBatch> batches, long bytes) {
    long start = System.nanoTime();
    List<RocksBuffer.Appended> appended;
    try {
      appended = buffer.append(batches);
    } catch (Exception e) {
      metrics.walWriteFailed();
      LOG.error("buffer write of {} requests ({} bytes) failed; none acknowledged", group.size(), bytes, e);
      for (Pending p : group) {
        p.done().completeExceptionally(e);
      }
      return;
    }
    metrics.groupWritten(group.size(), bytes, System.nanoTime() - start);
    for (int i = 0; i < group.size(); i++) {
      group.get(i).done().complete(appended.get(i));
    }
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
