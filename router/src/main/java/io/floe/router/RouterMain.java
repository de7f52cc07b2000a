package io.floe.router;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java io.floe.router.RouterMain}: configured by FLOE_ROUTER_* variables; stops on SIGTERM. */
public final class RouterMain {
  private RouterMain() {}

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("usage: floe-router  (FLOE_ROUTER_NODES=host:port,..., FLOE_ROUTER_PORT=8080,"
          + " or FLOE_CONFIG_FILE naming a file of router.* settings; see docs/configuration.md)");
      return;
    }
    RouterConfig config;
    try {
      config = RouterConfig.load(Settings.fromEnvironment());
    } catch (ConfigException e) {
      System.err.println("floe-router: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logger log = LoggerFactory.getLogger(RouterMain.class);
    Router router;
    try {
      router = Router.start(config);
    } catch (Exception e) {
      log.error("router failed to start", e);
      System.err.println("floe-router: failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        router.close();
      } catch (Exception e) {
        log.error("shutdown failed", e);
      }
    }, "floe-shutdown"));
  }
}
