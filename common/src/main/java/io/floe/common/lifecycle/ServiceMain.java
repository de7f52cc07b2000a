package io.floe.common.lifecycle;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code main} of every Floe process: {@code --help} prints the usage; otherwise the settings
 * are read from the environment (and {@code FLOE_CONFIG_FILE}), the service is started, and it is
 * closed on SIGTERM. A configuration error stops the process with exit code 2 and one line naming
 * the setting; any other start failure with exit code 1.
 */
public final class ServiceMain {
  private ServiceMain() {}

  /** Starts the service from its settings; what it returns is closed at shutdown. */
  @FunctionalInterface
  public interface Starter {
    AutoCloseable start(Settings settings) throws Exception;
  }

  /**
   * What a service calls when it can no longer work (a worker thread died): exit with code 70 so
   * that the supervisor (systemd) restarts it; the shutdown hook still closes what can be closed.
   */
  public static Runnable exitOnFatal(String name) {
    return () -> {
      System.err.println(name + ": fatal internal failure, exiting (see the log)");
      Thread exit = new Thread(() -> System.exit(70), "floe-fatal-exit");
      exit.setDaemon(true);
      exit.start();
    };
  }

  public static void run(String name, String usage, String[] args, Starter starter) {
    System.setProperty(
        "vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("usage: " + name + "  " + usage);
      return;
    }
    Logger log = LoggerFactory.getLogger(ServiceMain.class);
    AutoCloseable service;
    try {
      service = starter.start(Settings.fromEnvironment());
    } catch (ConfigException e) {
      System.err.println(name + ": configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      log.error("{} failed to start", name, e);
      System.err.println(name + ": failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    service.close();
                  } catch (Exception e) {
                    log.error("{}: orderly shutdown failed", name, e);
                  }
                },
                "floe-shutdown"));
  }
}
