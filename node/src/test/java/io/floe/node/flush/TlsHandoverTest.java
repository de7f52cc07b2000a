package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.common.config.Settings;
import io.floe.common.testing.Certificates;
import io.floe.common.testing.Certificates.Pem;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coordinated nodes that speak TLS hand their ranges to the committer over TLS, trusting exactly
 * the certificates in {@code commit.cluster-tls-trust-file} (what Terraform's nodes keep from the
 * certificates the nodes published). A node that does not yet trust the committer's certificate
 * cannot hand over — its events stay buffered, none is lost — until the file gains the certificate,
 * which the node picks up without a restart.
 */
class TlsHandoverTest {
  private static final Pattern TLS_FAILURES =
      Pattern.compile("(?m)^floe_handover_failures_total\\{reason=\"tls\"\\} (\\d+)");

  @TempDir Path tmp;

  @Test
  void aHandOverGoesOverTlsOnlyToATrustedCommitter() throws Exception {
    Pem[] pems = {Certificates.selfSigned(tmp, "node-0"), Certificates.selfSigned(tmp, "node-1")};
    Path[] trust = {tmp.resolve("peers-0.pem"), tmp.resolve("peers-1.pem")};
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        // each node first trusts only itself: as a node that started before the other published
        for (int p = 0; p < 2; p++) {
          Files.copy(pems[p].cert(), trust[p]);
          Map<String, String> s = env.nodeSettings(p);
          s.put("commit.mode", "coordinated");
          s.put("commit.interval-seconds", "0.3");
          s.put("commit.handover-timeout-seconds", "2");
          s.put("commit.coordinator-timeout-seconds", "1");
          s.put("http.tls.cert-file", pems[p].cert().toString());
          s.put("http.tls.key-file", pems[p].key().toString());
          s.put("commit.cluster-tls-trust-file", trust[p].toString());
          s.put("commit.cluster-tls-trust-reload-seconds", "0.2");
          nodes.add(Node.start(NodeConfig.load(Settings.of(s))));
          ingests.add(new Ingest(pems[p].trustingContext()));
        }
        for (int p = 0; p < 2; p++) {
          for (int i = 0; i < 3; i++) {
            assertThat(ingests.get(p).send(nodes.get(p).port(), "c" + p, "e" + i, 20).statusCode())
                .isEqualTo(200);
          }
        }
        // the first node to commit finds no committer and takes the role
        int holder = 0;
        int other = 1;
        // the committer's own range needs no hand-over over the network
        nodes.get(holder).flusher().flushNow().get(60, TimeUnit.SECONDS);
        assertThat(nodes.get(holder).coordinatorRole().local()).isNotNull();
        Ingest.assertExactly(env.rows(), holder, ingests.get(holder).acknowledged);

        // the other node's range must go over the network, to a certificate it does not trust
        CompletableFuture<?> flush = nodes.get(other).flusher().flushNow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (tlsFailures(ingests.get(other), nodes.get(other).port()) == 0) {
          assertThat(System.nanoTime()).as("a refused TLS hand-over").isLessThan(deadline);
          Thread.sleep(100);
        }
        // an untrusted certificate is this node's configuration, not a silent committer: past the
        // coordinator timeout the role stays where it is (no claim, no churn between the two)
        Thread.sleep(3_000);
        assertThat(flush).isNotDone();
        assertThat(CoordinatorClaim.current(env.table()).epoch()).isEqualTo(1);
        assertThat(nodes.get(other).coordinatorRole().local()).isNull();
        assertThat(env.rows()).noneMatch(r -> r.partitionId() == other);

        // the published certificates reach the other node's trust file: the hand-over goes through
        Files.writeString(
            trust[other], Files.readString(pems[0].cert()) + Files.readString(pems[1].cert()));
        flush.get(60, TimeUnit.SECONDS);
        var rows = env.rows();
        for (int p = 0; p < 2; p++) {
          Ingest.assertExactly(rows, p, ingests.get(p).acknowledged);
        }
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }

  private static long tlsFailures(Ingest ingest, int port) throws Exception {
    Matcher m = TLS_FAILURES.matcher(ingest.get(port, "/metrics").body());
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }
}
