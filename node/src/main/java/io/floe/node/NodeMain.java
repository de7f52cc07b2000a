package io.floe.node;

import io.floe.common.lifecycle.ServiceMain;
import io.floe.node.config.NodeConfig;

/**
 * {@code java io.floe.node.NodeMain}: reads the configuration, starts a node, stops it on SIGTERM.
 */
public final class NodeMain {
  private NodeMain() {}

  public static void main(String[] args) {
    ServiceMain.run(
        "floe-node",
        "(configured by FLOE_* environment variables and FLOE_CONFIG_FILE;"
            + " see docs/configuration.md)",
        args,
        settings -> Node.start(NodeConfig.load(settings), ServiceMain.exitOnFatal("floe-node")));
  }
}
