package io.floe.catalog.testing;

import io.floe.catalog.service.CatalogService;
import io.floe.catalog.service.CatalogServiceConfig;
import io.floe.common.config.Settings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Floe's catalog service on loopback over a SQLite file, with the given object storage; without
 * authentication unless the extra settings give a token or a token file, and without table
 * maintenance unless they turn it on ({@code FLOE_MAINTENANCE_ENABLED=true}).
 */
public final class LocalCatalog {
  private LocalCatalog() {}

  /**
   * Starts the service on a free port.
   *
   * @param fileIo Iceberg FileIO properties of the object store (e.g. {@link
   *     LocalS3#fileIoProperties()})
   * @param extraEnv further FLOE_* settings (e.g. FLOE_SERVICE_AUTH_TOKEN)
   */
  public static CatalogService start(
      Path sqliteFile, Map<String, String> fileIo, Map<String, String> extraEnv) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("FLOE_SERVICE_PORT", "0");
    env.put("FLOE_SERVICE_HOST", "127.0.0.1");
    env.put("FLOE_CATALOG_URI", "jdbc:sqlite:" + sqliteFile);
    fileIo.forEach((k, v) -> env.put(Settings.envName("catalog." + k), v));
    if (!extraEnv.containsKey("FLOE_SERVICE_AUTH_TOKEN")
        && !extraEnv.containsKey("FLOE_AUTH_TOKENS_FILE")) {
      env.put("FLOE_AUTH_DISABLED", "true");
    }
    if (!extraEnv.containsKey("FLOE_MAINTENANCE_ENABLED")) {
      // tests that are not about maintenance keep the table's history as they made it
      env.put("FLOE_MAINTENANCE_ENABLED", "false");
    }
    env.putAll(extraEnv);
    return CatalogService.start(CatalogServiceConfig.load(Settings.from(env)));
  }
}
