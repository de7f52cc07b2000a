package io.floe.node.commit;

import io.floe.catalog.commit.ClaimRacedException;
import io.floe.catalog.commit.CommitCoordinator;
import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.commit.PartitionView;
import io.floe.node.metrics.NodeMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's view of the cluster's committer role, and the role itself when this node holds it.
 *
 * <p>Discovery: the role's epoch and address are read from the table ({@link
 * CoordinatorClaim#current}), at the first hand-over and again whenever the holder does not answer
 * or says it no longer holds the role. Election: a node claims the role through the table ({@link
 * CoordinatorClaim#claim}: one winner per epoch) when none holds it, when the table names this
 * node's own address for an epoch this process did not win (a restarted coordinator), when the
 * holder stepped down, or when it has not answered for {@code commit.coordinator-timeout-seconds};
 * each claim first waits a delay of up to {@code commit.takeover-spread-seconds}, derived from the
 * partition and the epoch, so that the nodes of a cluster rarely claim at once. A node with {@code
 * commit.coordinator-eligible=false} never claims. Step-down: {@link #close} lets the commit in
 * flight finish and answers every pending hand-over {@code not_coordinator}.
 */
public final class CoordinatorRole implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorRole.class);

  /**
   * Where a hand-over goes: the coordinator in this process ({@code local}), or the node at {@code
   * address}; {@code epoch} is the role's epoch as read.
   */
  public record Target(long epoch, String address, CommitCoordinator local) {}

  private final int partitionId;
  private final CommitConfig config;
  private final Table table;
  private final Supplier<Table> load;
  private final Supplier<String> address;
  private final String owner;
  private final NodeMetrics metrics;
  private final Object lock = new Object();
  private volatile CoordinatorClaim.Coordinator known;
  private volatile CommitCoordinator local;
  private volatile Map<Integer, PartitionSpec> specs;
  private volatile Table localTable;
  private long failingEpoch = -1;
  private long failingSinceNanos;
  private volatile boolean closed;

  /** A claim of this node may be landing: it may hold the role before it takes hand-overs. */
  private volatile boolean claiming;

  /**
   * @param table the table, for discovery and claims (not shared with other threads' commits)
   * @param load loads the table afresh, for the coordinator's own commits
   * @param address this node's advertised host:port, or null while it is not known yet
   * @param owner this process, for people reading the table's history
   */
  public CoordinatorRole(
      int partitionId,
      CommitConfig config,
      Table table,
      Supplier<Table> load,
      Supplier<String> address,
      String owner,
      NodeMetrics metrics) {
    this.partitionId = partitionId;
    this.config = config;
    this.table = table;
    this.load = load;
    this.address = address;
    this.owner = owner;
    this.metrics = metrics;
    this.specs = table.specs();
    metrics.watchCoordinator(this::stats, this::knownEpoch);
  }

  /** The coordinator in this process when it holds the role, else null. */
  public CommitCoordinator local() {
    CommitCoordinator c = local;
    return c != null && c.active() ? c : null;
  }

  /**
   * Whether this node is claiming the role right now (its claim may have landed before its
   * coordinator runs): a hand-over should be tried again shortly, not taken for a step-down.
   */
  public boolean claiming() {
    return claiming;
  }

  /** The coordinator epoch this node knows of (0 before the first claim). */
  public long knownEpoch() {
    CoordinatorClaim.Coordinator k = known;
    return k == null ? 0 : k.epoch();
  }

  /** The table's partition specs, to read hand-overs with. */
  public Map<Integer, PartitionSpec> specs() {
    Table t = localTable;
    return t == null ? specs : t.specs();
  }

  private CommitCoordinator.Stats stats() {
    CommitCoordinator c = local;
    return c == null ? null : c.stats();
  }

  /**
   * Where to hand over now, claiming the role first when nobody holds it; null when there is no
   * holder yet (try again shortly).
   */
  public Target target() throws InterruptedException {
    CommitCoordinator mine = local();
    if (mine != null) {
      return new Target(mine.epoch(), address.get(), mine);
    }
    CoordinatorClaim.Coordinator k = known;
    if (k == null || local != null) {
      // first use, or this process's coordinator was fenced or stopped: read the table again
      local = null;
      k = refresh();
    }
    if (k.epoch() == 0 || k.address().isEmpty()) {
      takeOver(k.epoch(), "no node holds the committer role yet");
      return null;
    }
    if (k.address().equals(address.get())) {
      // the table names this node, but this process did not win that epoch: its previous run did
      takeOver(k.epoch(), "the table names this node's address, from an earlier run");
      return null;
    }
    return new Target(k.epoch(), k.address(), null);
  }

  /**
   * Where a hand-over would go now, as far as this node knows, without claiming the role or reading
   * the table: null when no holder is known (or the table names this node from an earlier run).
   */
  public Target peek() {
    CommitCoordinator mine = local();
    if (mine != null) {
      return new Target(mine.epoch(), address.get(), mine);
    }
    CoordinatorClaim.Coordinator k = known;
    if (k == null
        || local != null
        || k.epoch() == 0
        || k.address().isEmpty()
        || k.address().equals(address.get())) {
      return null;
    }
    return new Target(k.epoch(), k.address(), null);
  }

  /**
   * Reads who holds the role from the table, for a node that knows no holder or was told by it that
   * it stepped down; forgets this process's own coordinator once it was fenced or stopped.
   */
  public void rediscover() {
    synchronized (lock) {
      CommitCoordinator c = local;
      if (c != null && !c.active()) {
        local = null;
      }
    }
    refresh();
  }

  /**
   * The view of {@code partition} from this node's coordinator ({@link CommitCoordinator#view}), or
   * null when this node does not hold the role.
   */
  public PartitionView localView(int partition, Duration maxAge) {
    CommitCoordinator c = local();
    return c == null ? null : c.view(partition, maxAge, load);
  }

  /**
   * The holder of {@code epoch} did not answer (or answered that it stepped down): re-read the
   * table; when it still names that epoch and the holder has been silent for {@code
   * commit.coordinator-timeout-seconds} (at once when it stepped down), claim the role.
   */
  public void unanswered(long epoch, boolean steppedDown) throws InterruptedException {
    CoordinatorClaim.Coordinator k = refresh();
    if (k.epoch() != epoch) {
      return;
    }
    long now = System.nanoTime();
    boolean due;
    synchronized (lock) {
      if (failingEpoch != epoch) {
        failingEpoch = epoch;
        failingSinceNanos = now;
      }
      due = steppedDown || now - failingSinceNanos >= config.coordinatorTimeout().toNanos();
    }
    if (due) {
      takeOver(
          epoch,
          steppedDown
              ? "the coordinator of epoch " + epoch + " stepped down"
              : "the coordinator of epoch "
                  + epoch
                  + " at "
                  + k.address()
                  + " has not answered for "
                  + config.coordinatorTimeout().toMillis() / 1000.0
                  + " s");
    }
  }

  /** The holder of {@code epoch} answered: it is not silent (whatever it answered). */
  public void answered(long epoch) {
    synchronized (lock) {
      if (failingEpoch == epoch) {
        failingEpoch = -1;
      }
    }
  }

  /** Reads the role from the table. */
  public CoordinatorClaim.Coordinator refresh() {
    synchronized (lock) {
      metrics.tableRead("coordinator_discovery");
      table.refresh();
      CoordinatorClaim.Coordinator k = CoordinatorClaim.current(table);
      known = k;
      specs = table.specs();
      return k;
    }
  }

  /** Claims the role after this node's spread delay, unless someone claimed {@code epoch + 1}. */
  private void takeOver(long epoch, String why) throws InterruptedException {
    String mine = address.get();
    if (!config.eligible() || mine == null || closed) {
      return;
    }
    long delay = spreadMillis(partitionId, epoch, config.takeoverSpread());
    LOG.info("{}; claiming the committer role in {} ms", why, delay);
    TimeUnit.MILLISECONDS.sleep(delay);
    synchronized (lock) {
      if (closed || refresh().epoch() != epoch) {
        return;
      }
      CoordinatorClaim.Coordinator won;
      claiming = true;
      try {
        won = CoordinatorClaim.claim(table, mine, owner, epoch);
      } catch (ClaimRacedException e) {
        claiming = false;
        LOG.info("another node claimed the committer role first: {}", e.getMessage());
        refresh();
        return;
      } catch (RuntimeException e) {
        claiming = false;
        throw e;
      }
      known = won;
      failingEpoch = -1;
      try {
        Table own = load.get();
        CommitCoordinator c = new CommitCoordinator(own, won.epoch(), config.coordinator());
        c.start();
        localTable = own;
        local = c;
      } finally {
        claiming = false;
      }
      LOG.info(
          "this node ({}) now holds the committer role, coordinator epoch {}", mine, won.epoch());
    }
  }

  /**
   * The delay before this node claims after {@code epoch}: the same for the same partition and
   * epoch, spread over {@code [0, spread)} across partitions, and different for the next epoch.
   */
  static long spreadMillis(int partitionId, long epoch, Duration spread) {
    long range = spread.toMillis();
    if (range <= 0) {
      return 0;
    }
    long h = (partitionId * 0x9E3779B97F4A7C15L) ^ (epoch * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    return Math.floorMod(h, range);
  }

  /** Steps down: the commit in flight finishes, pending hand-overs are answered not_coordinator. */
  @Override
  public void close() {
    closed = true;
    CommitCoordinator c;
    synchronized (lock) {
      c = local;
      local = null;
    }
    if (c != null) {
      LOG.info("stepping down from the committer role (coordinator epoch {})", c.epoch());
      c.close();
    }
  }
}
