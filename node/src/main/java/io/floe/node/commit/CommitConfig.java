package io.floe.node.commit;

import io.floe.catalog.commit.CommitCoordinator;
import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.tls.ClientTrust;
import io.floe.common.tls.ServerTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How a node commits what it flushed: itself ({@code direct}, one commit per flush, as always) or
 * through the cluster's one committer ({@code coordinated}). Names and defaults are the constants
 * below; docs/configuration.md lists them.
 *
 * @param mode direct or coordinated
 * @param coordinator the committer's interval, file cap and pending cap, when this node holds the
 *     role; it answers busy after half the hand-over timeout and drops files past the resend limit
 * @param handoverTimeout how long a hand-over waits for its answer before the node checks the table
 *     itself and hands it over again
 * @param coordinatorTimeout after this long without an answer from the coordinator, a node claims
 *     the role (after its spread delay)
 * @param takeoverSpread the longest extra delay before a claim, spread over the nodes by a hash of
 *     their partition and the epoch, so that one claimant usually wins alone
 * @param resendLimit written files older than this are never handed over again: the node rewrites
 *     the range (far below the orphan age maintenance deletes unreferenced files at)
 * @param eligible whether this node may hold the committer role
 * @param advertiseAddress host:port other nodes reach this node's hand-over route at; null: the
 *     HTTP host (loopback when it is a wildcard) and the bound port
 * @param clusterToken the token this node sends to other nodes' hand-over route (scope {@code
 *     cluster}); null when they run without authentication
 * @param clusterTrust the certificates other nodes' TLS certificates chain to; null: plaintext
 */
public record CommitConfig(
    Mode mode,
    CommitCoordinator.Settings coordinator,
    Duration handoverTimeout,
    Duration coordinatorTimeout,
    Duration takeoverSpread,
    Duration resendLimit,
    boolean eligible,
    String advertiseAddress,
    String clusterToken,
    ClientTrust clusterTrust) {

  /** Who commits a node's flushes. */
  public enum Mode {
    /** the node commits each flush itself */
    DIRECT,
    /** the node hands its flushes to the cluster's one committer */
    COORDINATED
  }

  public static final String MODE = "commit.mode";
  public static final Mode MODE_DEFAULT = Mode.DIRECT;
  public static final String INTERVAL = "commit.interval-seconds";
  public static final String MAX_FILES = "commit.max-files";
  public static final String MAX_PENDING_BYTES = "commit.max-pending-bytes";
  public static final String HANDOVER_TIMEOUT = "commit.handover-timeout-seconds";
  public static final Duration HANDOVER_TIMEOUT_DEFAULT = Duration.ofSeconds(15);
  public static final String COORDINATOR_TIMEOUT = "commit.coordinator-timeout-seconds";
  public static final Duration COORDINATOR_TIMEOUT_DEFAULT = Duration.ofSeconds(10);
  public static final String TAKEOVER_SPREAD = "commit.takeover-spread-seconds";
  public static final Duration TAKEOVER_SPREAD_DEFAULT = Duration.ofSeconds(5);
  public static final String RESEND_LIMIT = "commit.resend-limit-seconds";
  public static final Duration RESEND_LIMIT_DEFAULT = Duration.ofMinutes(30);
  public static final String ELIGIBLE = "commit.coordinator-eligible";
  public static final String ADVERTISE_ADDRESS = "node.advertise-address";
  public static final String CLUSTER_TOKEN = "commit.cluster-token";
  public static final String CLUSTER_TRUST_FILE = "commit.cluster-tls-trust-file";
  public static final String CLUSTER_TRUST_RELOAD = "commit.cluster-tls-trust-reload-seconds";

  /** The resend limit must stay this far below maintenance's least orphan age (2 h). */
  private static final Duration RESEND_LIMIT_MAX = Duration.ofHours(1);

  public static CommitConfig load(Settings s) {
    Mode mode = s.enumValue(MODE, MODE_DEFAULT);
    String advertise =
        s.string(
            ADVERTISE_ADDRESS, null, CommitConfig::validAddress, "host:port (no scheme, no path)");
    Path trustFile = s.path(CLUSTER_TRUST_FILE, null);
    ClientTrust trust =
        trustFile == null
            ? null
            : ClientTrust.load(
                trustFile,
                Settings.envName(CLUSTER_TRUST_FILE) + " (" + CLUSTER_TRUST_FILE + ")",
                s.seconds(
                    CLUSTER_TRUST_RELOAD,
                    ServerTls.RELOAD_DEFAULT,
                    Duration.ofMillis(100),
                    Duration.ofHours(1)));
    Duration handoverTimeout =
        s.seconds(
            HANDOVER_TIMEOUT,
            HANDOVER_TIMEOUT_DEFAULT,
            Duration.ofMillis(100),
            Duration.ofMinutes(10));
    Duration resendLimit =
        s.seconds(RESEND_LIMIT, RESEND_LIMIT_DEFAULT, Duration.ofSeconds(1), RESEND_LIMIT_MAX);
    if (resendLimit.compareTo(handoverTimeout) < 0) {
      throw new ConfigException(
          Settings.envName(RESEND_LIMIT)
              + " ("
              + RESEND_LIMIT
              + ") must be at least "
              + HANDOVER_TIMEOUT
              + " ("
              + handoverTimeout.toMillis() / 1000.0
              + " s)");
    }
    // the committer answers busy well before a node's hand-over times out, so a committer held up
    // by the catalog is never taken for a silent one; it drops files the nodes no longer re-send
    CommitCoordinator.Settings coordinator =
        new CommitCoordinator.Settings(
            s.seconds(
                INTERVAL,
                CommitCoordinator.Settings.INTERVAL_DEFAULT,
                Duration.ZERO,
                Duration.ofHours(1)),
            CommitCoordinator.Settings.URGENT_SPACING_DEFAULT,
            s.intValue(MAX_FILES, CommitCoordinator.Settings.MAX_FILES_DEFAULT, 1, 1_000_000),
            s.bytes(
                MAX_PENDING_BYTES,
                CommitCoordinator.Settings.MAX_PENDING_BYTES_DEFAULT,
                1L << 20,
                1L << 40),
            handoverTimeout.dividedBy(2),
            resendLimit);
    return new CommitConfig(
        mode,
        coordinator,
        handoverTimeout,
        s.seconds(
            COORDINATOR_TIMEOUT,
            COORDINATOR_TIMEOUT_DEFAULT,
            Duration.ofMillis(100),
            Duration.ofHours(1)),
        s.seconds(TAKEOVER_SPREAD, TAKEOVER_SPREAD_DEFAULT, Duration.ZERO, Duration.ofMinutes(10)),
        resendLimit,
        s.bool(ELIGIBLE, true),
        advertise,
        s.string(CLUSTER_TOKEN, null),
        trust);
  }

  /** The defaults: direct commits. */
  public static CommitConfig direct() {
    return load(Settings.of(Map.of()));
  }

  public boolean coordinated() {
    return mode == Mode.COORDINATED;
  }

  private static boolean validAddress(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || address.contains("/") || address.contains(" ")) {
      return false;
    }
    try {
      int port = Integer.parseInt(address.substring(colon + 1));
      return port > 0 && port <= 65_535;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
