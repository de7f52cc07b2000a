package io.floe.node.testing;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A node on loopback, any free port, without a flusher and (unless the overrides set a token or a
 * token file) without authentication: for tests of the HTTP and buffer layers.
 */
public final class BufferOnlyNode {
  private BufferOnlyNode() {}

  /** The settings of such a node with its buffer in {@code dir}; mutable, for overrides. */
  public static Map<String, String> settings(Path dir) {
    Map<String, String> s = new HashMap<>();
    s.put("http.port", "0");
    s.put("http.host", "127.0.0.1");
    s.put("http.event-loops", "2");
    s.put("buffer.dir", dir.toString());
    s.put("flush.enabled", "false");
    s.put("auth.disabled", "true");
    return s;
  }

  /** Starts such a node with {@code overrides} on top. */
  public static Node start(Path dir, Map<String, String> overrides) throws Exception {
    Map<String, String> s = settings(dir);
    if (overrides.containsKey("http.auth-token") || overrides.containsKey("auth.tokens-file")) {
      s.remove("auth.disabled");
    }
    s.putAll(overrides);
    return Node.start(NodeConfig.load(Settings.of(s)));
  }
}
