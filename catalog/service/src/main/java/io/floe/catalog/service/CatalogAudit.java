package io.floe.catalog.service;

import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.HashSet;
import java.util.Set;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog service's audit trail, on the {@code floe.audit} logger: one line per change (who,
 * what, which table, which snapshot) and one per refused request (who, from where, what, why). A
 * line names a token by its name, never the token itself.
 */
final class CatalogAudit {
  private static final Logger AUDIT = LoggerFactory.getLogger("floe.audit");

  /** Where the routing context keeps what a commit does, when it is not a plain "commit". */
  static final String COMMIT_ACTION = "floe.commit-action";

  private CatalogAudit() {}

  /** One line for a change {@code action} to {@code target} (a commit as {@link #action}). */
  static void changed(RoutingContext ctx, String action, String target, Long snapshot) {
    Principal p = ctx.get(CatalogAccess.PRINCIPAL);
    String named = action.equals("commit") ? ctx.get(COMMIT_ACTION, action) : action;
    AUDIT.info(
        "audit principal={} action={} target={} snapshot={}",
        p == null ? "?" : p.name(),
        named,
        target,
        snapshot == null ? "-" : snapshot);
  }

  /** One line for a refused request ({@code p} null: the caller is not known, a 401). */
  static void refused(RoutingContext ctx, Principal p, AuthException e) {
    SocketAddress from = ctx.request().remoteAddress();
    AUDIT.info(
        "audit principal={} action=refused status={} request={} {} from={} reason={}",
        p == null ? "?" : p.name(),
        e.status(),
        ctx.request().method(),
        ctx.request().path(),
        from == null ? "?" : from.hostAddress(),
        e.getMessage());
  }

  /**
   * What a commit does, as its audit line names it: {@code rollback} when it moves a branch to a
   * snapshot it does not add, else {@code commit}.
   */
  static String action(UpdateTableRequest request) {
    Set<Long> added = new HashSet<>();
    for (MetadataUpdate u : request.updates()) {
      if (u instanceof MetadataUpdate.AddSnapshot a) {
        added.add(a.snapshot().snapshotId());
      }
    }
    for (MetadataUpdate u : request.updates()) {
      if (u instanceof MetadataUpdate.SetSnapshotRef r
          && "branch".equalsIgnoreCase(r.type())
          && !added.contains(r.snapshotId())) {
        return "rollback";
      }
    }
    return "commit";
  }
}
