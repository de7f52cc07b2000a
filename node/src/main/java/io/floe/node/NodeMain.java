package io.floe.node;

import io.floe.common.config.ConfigException;
import io.floe.node.config.NodeConfig;
import io.floe.common.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java io.floe.node.NodeMain}: reads the configuration, starts a node, stops it on SIGTERM. */
public final class NodeMain {
  private NodeMain() {}

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("usage: floe-node  (configured by FLOE_* environment variables and FLOE_CONFIG_FILE;"
          + " see README.md, Configuration)");
      return;
    }
    NodeConfig config;
    try {
      config = NodeConfig.load(Settings.fromEnvironment());
    } catch (ConfigException e) {
      System.err.println("floe-node: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logger log = LoggerFactory.getLogger(NodeMain.class);
    Node node;
    try {
      node = Node.start(config);
    } catch (Exception e) {
      log.error("node failed to start", e);
      System.err.println("floe-node: failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        log.error("orderly shutdown failed", e);
      }
    }, "floe-shutdown"));
  }
}
