package io.floe.router;

import io.floe.common.lifecycle.ServiceMain;

/**
 * {@code java io.floe.router.RouterMain}: configured by FLOE_ROUTER_* variables; stops on SIGTERM.
 */
public final class RouterMain {
  private RouterMain() {}

  public static void main(String[] args) {
    ServiceMain.run(
        "floe-router",
        "(FLOE_ROUTER_NODES=host:port,..., FLOE_ROUTER_PORT=8080, or FLOE_CONFIG_FILE"
            + " naming a file of router.* settings; see docs/configuration.md)",
        args,
        settings -> Router.start(RouterConfig.load(settings)));
  }
}
