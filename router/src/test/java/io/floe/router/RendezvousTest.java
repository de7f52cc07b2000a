package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RendezvousTest {
  private static List<Member> members(int n) {
    List<Member> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RouterConfig.NodeAddress address = new RouterConfig.NodeAddress("10.0.0." + i, 8081);
      out.add(new Member(address, Rendezvous.seed(address.toString())));
    }
    return out;
  }

  @Test
  void aKeyAlwaysGoesToTheSameNodeAndOnlyALeavingNodesKeysMove() {
    List<Member> three = members(3);
    Map<String, String> before = new HashMap<>();
    Map<String, Integer> load = new HashMap<>();
    for (int k = 0; k < 30_000; k++) {
      String key = "user-" + k;
      String node = Rendezvous.forKey(key, three).id;
      assertThat(Rendezvous.forKey(key, three).id).isEqualTo(node);
      before.put(key, node);
      load.merge(node, 1, Integer::sum);
    }
    assertThat(load.values()).allSatisfy(n -> assertThat(n).isBetween(9_000, 11_000));
    List<Member> two = List.of(three.get(0), three.get(2));
    for (Map.Entry<String, String> e : before.entrySet()) {
      String after = Rendezvous.forKey(e.getKey(), two).id;
      if (!e.getValue().equals(three.get(1).id)) {
        assertThat(after).as("key %s stays", e.getKey()).isEqualTo(e.getValue());
      }
    }
  }

  @Test
  void aKeysPartitionDependsOnThePartitionsAloneAndOnlyALeavingOnesKeysMove() {
    Map<String, Integer> before = new HashMap<>();
    Map<Integer, Integer> load = new HashMap<>();
    for (int k = 0; k < 30_000; k++) {
      String key = "order-" + k;
      int p = Rendezvous.partitionForKey(key, new int[] {4, 7, 9});
      assertThat(Rendezvous.partitionForKey(key, new int[] {9, -1, 4, 7}))
          .as("in any order, beside a node whose partition is unknown")
          .isEqualTo(p);
      before.put(key, p);
      load.merge(p, 1, Integer::sum);
    }
    assertThat(load.values()).allSatisfy(n -> assertThat(n).isBetween(9_000, 11_000));
    for (Map.Entry<String, Integer> e : before.entrySet()) {
      int after = Rendezvous.partitionForKey(e.getKey(), new int[] {4, 9});
      if (e.getValue() != 7) {
        assertThat(after).as("key %s stays", e.getKey()).isEqualTo(e.getValue());
      }
    }
    assertThat(Rendezvous.partitionForKey("k", new int[] {-1})).isEqualTo(-1);
  }

  @Test
  void withoutAKeyTheLessLoadedOfTwoWins() {
    List<Member> two = members(2);
    two.get(0).inflight.set(10);
    for (int i = 0; i < 100; i++) {
      assertThat(Rendezvous.leastLoadedOfTwo(two)).isSameAs(two.get(1));
    }
    assertThat(Rendezvous.leastLoadedOfTwo(List.of())).isNull();
  }

  @Test
  void nodeListsParseAndBadOnesNameTheSetting() {
    assertThat(RouterConfig.parseNodes("a:1, b:2\n# comment\nc:3 # x\n", "X"))
        .extracting(Object::toString)
        .containsExactly("a:1", "b:2", "c:3");
    Assertions.assertThatThrownBy(() -> load(Map.of("FLOE_ROUTER_NODES", "a:b")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("FLOE_ROUTER_NODES (router.nodes): 'a:b' is not host:port");
    Assertions.assertThatThrownBy(() -> load(Map.of()))
        .hasMessageStartingWith("FLOE_ROUTER_NODES (router.nodes) must list the nodes");
    Assertions.assertThatThrownBy(
            () -> load(Map.of("FLOE_ROUTER_NODES", "a:1", "FLOE_ROUTER_PORT", "x")))
        .hasMessage("FLOE_ROUTER_PORT (router.port) must be an integer in 0..65535, got 'x'");
    Assertions.assertThatThrownBy(
            () ->
                load(
                    Map.of("FLOE_ROUTER_NODES", "a:1", "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS", "0")))
        .hasMessage(
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS (router.health-interval-seconds) must be a number of"
                + " seconds in 0.05..600, got '0'");
  }

  @Test
  void theRouterReadsTheSameConfigurationFileAsEveryComponent(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("router.properties");
    Files.writeString(
        file,
        "router.nodes=n1:8081,n2:8081\nrouter.request-timeout-seconds=2.5\nrouter.port=9090\n");
    RouterConfig c = load(Map.of("FLOE_CONFIG_FILE", file.toString(), "FLOE_ROUTER_PORT", "9191"));
    assertThat(c.nodes()).extracting(Object::toString).containsExactly("n1:8081", "n2:8081");
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(c.port()).as("the environment wins over the file").isEqualTo(9191);
    assertThat(c.healthInterval()).isEqualTo(RouterConfig.HEALTH_INTERVAL_DEFAULT);
  }

  private static RouterConfig load(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("FLOE_AUTH_DISABLED", "true");
    return RouterConfig.load(Settings.from(all));
  }

  @Test
  void aRouterNeedsAuthenticationUnlessExplicitlyDisabled() {
    Assertions.assertThatThrownBy(
            () -> RouterConfig.load(Settings.from(Map.of("FLOE_ROUTER_NODES", "a:1"))))
        .hasMessageStartingWith("auth.tokens-file: authentication is required");
    Assertions.assertThatThrownBy(
            () -> load(Map.of("FLOE_ROUTER_NODES", "a:1", "FLOE_ROUTER_NODE_TOKEN", " ")))
        .hasMessageStartingWith("router.node-token: the token is empty");
  }
}
