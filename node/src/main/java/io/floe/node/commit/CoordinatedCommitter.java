package io.floe.node.commit;

import io.floe.catalog.commit.CommitCoordinator;
import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.FencedException;
import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.HandoverCodec;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.commit.PartitionView;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.http.HttpClosedException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands each written range to the cluster's committer ({@link CoordinatorRole}: in this process
 * when this node holds the role, else over HTTP) and waits for its answer.
 *
 * <p>When no answer comes within {@code commit.handover-timeout-seconds}, or the answer is lost or
 * says the outcome is unknown, the node takes the path it takes after a direct commit's lost
 * answer: it reads the table ({@link CommitProtocol#committedUnder}); committed through the range's
 * end under its epoch → done; beyond its start → an earlier hand-over landed instead; else it hands
 * the same bytes over again, to whoever coordinates by then (a re-send of a range already committed
 * is answered committed). Files written longer ago than {@code commit.resend-limit-seconds} are
 * never offered again: the call fails, and the flusher reads the table and writes the range anew.
 * Nothing is ever dropped from RocksDB before the table records it under the claim's epoch.
 */
public final class CoordinatedCommitter implements RangeCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(CoordinatedCommitter.class);
  private static final long PAUSE_MIN_MILLIS = 50;
  private static final long PAUSE_MAX_MILLIS = 2_000;
  private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(2);

  private final CommitProtocol protocol;
  private final CoordinatorRole role;
  private final CommitConfig config;
  private final NodeMetrics metrics;
  private final HandoverClient client;
  private volatile boolean closed;
  private volatile long lastSnapshotId;
  private long lastDiscoveryNanos;

  public CoordinatedCommitter(
      CommitProtocol protocol, CoordinatorRole role, CommitConfig config, NodeMetrics metrics) {
    this.protocol = protocol;
    this.role = role;
    this.config = config;
    this.metrics = metrics;
    this.client = new HandoverClient(config);
    this.lastSnapshotId = protocol.lastSnapshotId();
  }

  @Override
  public long commit(PartitionClaim claim, Range range) throws InterruptedException {
    long start = System.nanoTime();
    byte[] encoded = null;
    long pause = PAUSE_MIN_MILLIS;
    Duration timeout = config.handoverTimeout();
    while (true) {
      if (closed) {
        throw new IllegalStateException(
            "the node is stopping; sequences "
                + (range.after() + 1)
                + ".."
                + range.through()
                + " stay in the buffer");
      }
      if (System.nanoTime() - range.writtenNanos() > config.resendLimit().toNanos()) {
        metrics.handoverFailed("expired");
        throw new IllegalStateException(
            "partition "
                + claim.partitionId()
                + ": the files of sequences "
                + (range.after() + 1)
                + ".."
                + range.through()
                + " were written more than "
                + config.resendLimit().toSeconds()
                + " s ago (commit.resend-limit-seconds) and are never offered again; the range is"
                + " written anew");
      }
      CoordinatorRole.Target target = role.target();
      if (target == null) {
        TimeUnit.MILLISECONDS.sleep(pause);
        pause = Math.min(PAUSE_MAX_MILLIS, pause * 2);
        continue;
      }
      // the files' age goes along, so that the committer never commits them past the resend limit
      CommitCoordinator.Handover h =
          CommitCoordinator.Handover.of(
              claim,
              range.after(),
              range.through(),
              range.files(),
              range.events(),
              range.urgent(),
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - range.writtenNanos()));
      HandoverAnswer answer;
      try {
        if (target.local() != null) {
          answer = target.local().handOver(h).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } else {
          if (encoded == null) {
            encoded = HandoverCodec.encode(range.files(), protocol.table().specs());
          }
          answer = client.send(target.address(), h, encoded, timeout);
        }
      } catch (TimeoutException | ExecutionException | RuntimeException e) {
        if (e instanceof ExecutionException x && x.getCause() instanceof HandoverClient.Refused r) {
          // a configuration error (the cluster token): the coordinator is alive, do not replace it
          metrics.handoverFailed("refused");
          LOG.error(
              "partition {}: the coordinator at {} refused the hand-over: {}; check {} and the"
                  + " token's scope (cluster)",
              claim.partitionId(),
              target.address(),
              r.getMessage(),
              CommitConfig.CLUSTER_TOKEN);
          TimeUnit.MILLISECONDS.sleep(PAUSE_MAX_MILLIS);
          continue;
        }
        if (tlsFailure(e)) {
          // this node does not trust the holder's certificate (or the holder speaks no TLS): a
          // configuration error here, not a silent coordinator, so the role stays where it is;
          // the trust file is re-read, and the hand-over goes through once it names the holder
          metrics.handoverFailed("tls");
          LOG.error(
              "partition {}: TLS to the coordinator at {} failed: {}; check {} (the certificates"
                  + " this node trusts) and the holder's certificate",
              claim.partitionId(),
              target.address(),
              String.valueOf(e instanceof ExecutionException ? e.getCause() : e),
              CommitConfig.CLUSTER_TRUST_FILE);
          TimeUnit.MILLISECONDS.sleep(PAUSE_MAX_MILLIS);
          continue;
        }
        String reason = e instanceof TimeoutException ? "timeout" : "unreachable";
        metrics.handoverFailed(reason);
        LOG.warn(
            "partition {}: hand-over of {}..{} to the coordinator of epoch {} ({}) got no answer"
                + " ({}); checking the table",
            claim.partitionId(),
            range.after() + 1,
            range.through(),
            target.epoch(),
            target.local() != null ? "this node" : target.address(),
            String.valueOf(e instanceof ExecutionException ? e.getCause() : e));
        long recorded = recorded(claim, range);
        if (recorded >= 0) {
          return done(recorded, start);
        }
        if (target.local() == null) {
          // refused: nothing listens at the holder's address (a stopped or dead process, which a
          // paused one is not: its kernel still accepts), so the role is free now
          role.unanswered(target.epoch(), refused(e));
        }
        // else this process holds the role: it is slow (the catalog), not gone
        TimeUnit.MILLISECONDS.sleep(pause);
        pause = Math.min(PAUSE_MAX_MILLIS, pause * 2);
        continue;
      }
      if (!(answer instanceof HandoverAnswer.NotCoordinator)) {
        role.answered(target.epoch());
      }
      if (answer instanceof HandoverAnswer.Committed c) {
        lastSnapshotId = c.snapshotId() >= 0 ? c.snapshotId() : protocol.lastSnapshotId();
        return done(range.through(), start);
      }
      if (answer instanceof HandoverAnswer.Fenced f) {
        metrics.handoverFailed("fenced");
        throw new FencedException(
            "partition "
                + claim.partitionId()
                + " was claimed with epoch "
                + f.tableEpoch()
                + " by another process; this node held epoch "
                + claim.epoch());
      }
      if (answer instanceof HandoverAnswer.Busy b) {
        metrics.handoverFailed("busy");
        TimeUnit.MILLISECONDS.sleep(Math.max(PAUSE_MIN_MILLIS, b.retryAfterMillis()));
        continue;
      }
      if (answer instanceof HandoverAnswer.NotCoordinator n) {
        metrics.handoverFailed("not_coordinator");
        // the addressed node does not hold that epoch and knows no newer one: its holder is gone
        role.unanswered(target.epoch(), n.coordinatorEpoch() <= target.epoch());
        TimeUnit.MILLISECONDS.sleep(PAUSE_MIN_MILLIS);
        continue;
      }
      // mismatch or failed: the table tells what happened
      String reason = answer instanceof HandoverAnswer.Mismatch ? "mismatch" : "failed";
      metrics.handoverFailed(reason);
      LOG.warn(
          "partition {}: the coordinator answered {} for {}..{}; checking the table",
          claim.partitionId(),
          answer,
          range.after() + 1,
          range.through());
      long recorded = recorded(claim, range);
      if (recorded >= 0) {
        return done(recorded, start);
      }
      TimeUnit.MILLISECONDS.sleep(pause);
      pause = Math.min(PAUSE_MAX_MILLIS, pause * 2);
    }
  }

  /**
   * What the table records for the partition under the claim: the range's end when it is committed,
   * an earlier end beyond its start (an earlier hand-over landed instead), or -1 when it is still
   * committed through the range's start (hand it over again).
   *
   * @throws FencedException when another process claimed the partition, or the table records less
   *     than the range's start (another process committed it)
   */
  private long recorded(PartitionClaim claim, Range range) {
    long now;
    try {
      metrics.tableRead("handover_check");
      now = protocol.committedUnder(claim);
    } catch (FencedException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn(
          "partition {}: cannot read the table either ({}); handing over again",
          claim.partitionId(),
          e.getMessage());
      return -1;
    }
    if (now >= range.through()) {
      lastSnapshotId = protocol.snapshotCommitting(now);
      return range.through();
    }
    if (now > range.after()) {
      lastSnapshotId = protocol.snapshotCommitting(now);
      LOG.warn(
          "partition {}: an earlier hand-over landed through {}; the files of {}..{} were not"
              + " committed, continuing from {}",
          claim.partitionId(),
          now,
          range.after() + 1,
          range.through(),
          now);
      return now;
    }
    if (now < range.after()) {
      throw new FencedException(
          "partition "
              + claim.partitionId()
              + " is committed through "
              + now
              + ", not "
              + range.after()
              + ": another process committed it");
    }
    return -1;
  }

  /** Whether the hand-over failed in the TLS handshake (an untrusted or wrong certificate). */
  private static boolean tlsFailure(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException) {
        return true;
      }
    }
    return false;
  }

  private static boolean refused(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        return t.getMessage() != null && t.getMessage().contains("refused");
      }
    }
    return false;
  }

  private long done(long committed, long start) {
    metrics.handoverWaited(System.nanoTime() - start);
    return committed;
  }

  /**
   * Asks the committer (this process's, or the holder's over HTTP, within at most 2 s); null when
   * no holder is known or it cannot answer now. Never claims the role. A node that knows no holder
   * (it has handed nothing over yet, or its own coordinator was fenced) or whose holder says it no
   * longer holds the role reads who holds it from the table, at most once per {@code maxAge}.
   */
  @Override
  public PartitionView view(int partition, Duration maxAge) {
    if (closed) {
      return null;
    }
    Duration age =
        maxAge.toMillis() < HandoverWire.MIN_VIEW_AGE_MILLIS
            ? Duration.ofMillis(HandoverWire.MIN_VIEW_AGE_MILLIS)
            : maxAge;
    CoordinatorRole.Target target = role.peek();
    if (target == null) {
      rediscover(age);
      target = role.peek();
      if (target == null) {
        return null;
      }
    }
    try {
      if (target.local() != null) {
        return role.localView(partition, age);
      }
      Duration timeout =
          config.handoverTimeout().compareTo(VIEW_TIMEOUT) < 0
              ? config.handoverTimeout()
              : VIEW_TIMEOUT;
      try {
        return client.view(target.address(), partition, age, timeout);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof HandoverClient.NotCoordinatorThere) {
          // the holder stepped down or was replaced: find the new one for the next check
          rediscover(age);
          return null;
        }
        if (!(e.getCause() instanceof HttpClosedException)) {
          throw e;
        }
        // once more on a fresh connection (a kept-alive one closed under the request)
        return client.view(target.address(), partition, age, timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      LOG.debug(
          "partition {}: the committer's view is not to be had ({}); reading the table",
          partition,
          String.valueOf(e instanceof ExecutionException ? e.getCause() : e));
      return null;
    }
  }

  /** Reads the role's holder from the table, at most once per {@code every}. */
  private void rediscover(Duration every) {
    long now = System.nanoTime();
    synchronized (this) {
      if (lastDiscoveryNanos != 0 && now - lastDiscoveryNanos < every.toNanos()) {
        return;
      }
      lastDiscoveryNanos = now;
    }
    try {
      role.rediscover();
    } catch (RuntimeException e) {
      LOG.debug("cannot read the committer role from the table ({})", e.getMessage());
    }
  }

  @Override
  public long lastSnapshotId() {
    return lastSnapshotId;
  }

  @Override
  public void close() {
    closed = true;
    client.close();
  }
}
