package io.floe.catalog.service;

import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.regex.Pattern;

/**
 * Counts the Iceberg REST requests the service lets through ({@code
 * floe_catalog_requests_total{operation,caller}}): a table load ({@code load_table}), a table
 * commit ({@code commit_table}) or anything else ({@code other}); by a node (a {@code
 * catalog:commit} token without {@code admin}) or anyone else. Only these classes are labels, never
 * a token's name. Mounted after {@link CatalogAccess}, so refused requests are not counted.
 */
final class CatalogRequests implements Handler<RoutingContext> {
  private static final Pattern TABLE = Pattern.compile("/v1/namespaces/[^/]+/tables/[^/]+");

  private final Counter requests;

  CatalogRequests(PrometheusRegistry registry) {
    this.requests =
        Counter.builder()
            .name("floe_catalog_requests_total")
            .help(
                "Iceberg REST requests let through, by operation (load_table, commit_table,"
                    + " other) and caller (node: a catalog:commit token; other)")
            .labelNames("operation", "caller")
            .register(registry);
  }

  @Override
  public void handle(RoutingContext ctx) {
    requests.labelValues(operation(ctx), caller(ctx.get(CatalogAccess.PRINCIPAL))).inc();
    ctx.next();
  }

  private static String operation(RoutingContext ctx) {
    if (!TABLE.matcher(ctx.request().path()).matches()) {
      return "other";
    }
    HttpMethod method = ctx.request().method();
    if (method == HttpMethod.GET) {
      return "load_table";
    }
    return method == HttpMethod.POST ? "commit_table" : "other";
  }

  private static String caller(Principal p) {
    return p != null && p.may(Scope.CATALOG_COMMIT) && !p.may(Scope.ADMIN) ? "node" : "other";
  }
}
