package io.floe.catalog.service;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.floe.common.auth.Principal;
import io.floe.common.http.JsonResponses;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.Endpoint;
import org.apache.iceberg.rest.RESTCatalogProperties;
import org.apache.iceberg.rest.RESTSerializers;
import org.apache.iceberg.rest.requests.CreateNamespaceRequest;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.RenameTableRequest;
import org.apache.iceberg.rest.requests.UpdateNamespacePropertiesRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.LoadTableResponse;

/**
 * The Iceberg REST catalog API (what Spark's, Trino's and PyIceberg's REST clients call), mapped
 * onto Iceberg's own {@link CatalogHandlers} over the backing catalog. Catalog calls block (JDBC,
 * object storage), so each runs on Vert.x's worker pool, never on the event loop.
 */
final class RestCatalogRoutes {
  private static final String NAMESPACE_SEPARATOR = "\u001f";
  private static final List<Endpoint> ENDPOINTS =
      List.of(
          Endpoint.V1_LIST_NAMESPACES,
          Endpoint.V1_LOAD_NAMESPACE,
          Endpoint.V1_NAMESPACE_EXISTS,
          Endpoint.V1_CREATE_NAMESPACE,
          Endpoint.V1_UPDATE_NAMESPACE,
          Endpoint.V1_DELETE_NAMESPACE,
          Endpoint.V1_LIST_TABLES,
          Endpoint.V1_LOAD_TABLE,
          Endpoint.V1_TABLE_EXISTS,
          Endpoint.V1_CREATE_TABLE,
          Endpoint.V1_UPDATE_TABLE,
          Endpoint.V1_DELETE_TABLE,
          Endpoint.V1_RENAME_TABLE,
          Endpoint.V1_REGISTER_TABLE,
          Endpoint.V1_REPORT_METRICS);

  /** The largest request body read (a commit of many files); larger ones are answered 413. */
  static final long MAX_BODY_BYTES = 64L << 20;

  /** The REST spec's header by which a client asks for storage credentials with a table. */
  static final String ACCESS_DELEGATION = "X-Iceberg-Access-Delegation";

  private final Catalog catalog;

  /** The catalog for table commits: a failed commit is read back before it is answered. */
  private final Catalog commits;

  private final SupportsNamespaces namespaces;

  /** The storage settings each caller gets with a table, and everyone in /v1/config. */
  private final VendedCredentials storage;

  private final CatalogAccess access;

  /** Counts what {@link #access} lets through. */
  private final CatalogRequests requests;

  private final ObjectMapper mapper = mapper();

  RestCatalogRoutes(
      Catalog catalog, VendedCredentials storage, CatalogAccess access, CatalogRequests requests) {
    this.catalog = catalog;
    this.requests = requests;
    this.commits = new CommitOutcomeCatalog(catalog);
    this.namespaces = (SupportsNamespaces) catalog;
    this.storage = storage;
    this.access = access;
  }

  private static ObjectMapper mapper() {
    ObjectMapper m = new ObjectMapper();
    m.setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);
    m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    m.setPropertyNamingStrategy(new PropertyNamingStrategies.KebabCaseStrategy());
    RESTSerializers.registerAll(m);
    return m;
  }

  void mount(Router router) {
    // who may call which route is settled before a byte of the body is read
    router.route("/v1/*").handler(access);
    router.route("/v1/*").handler(requests);
    router.route("/v1/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/v1/namespaces/:ns/tables").handler(access.commits());
    router.post("/v1/namespaces/:ns/tables/:table").handler(access.commits());
    router
        .get("/v1/config")
        .handler(
            ctx ->
                json(
                    ctx,
                    200,
                    ConfigResponse.builder()
                        .withDefaults(new HashMap<>(storage.withoutCredentials()))
                        .withDefault(RESTCatalogProperties.NAMESPACE_SEPARATOR, "%1F")
                        .withEndpoints(ENDPOINTS)
                        .build()));

    router
        .get("/v1/namespaces")
        .handler(
            blocking(
                ctx -> {
                  String parent = ctx.request().getParam("parent");
                  Namespace ns = parent == null ? Namespace.empty() : namespace(parent);
                  String pageToken = ctx.request().getParam("pageToken");
                  String pageSize = ctx.request().getParam("pageSize");
                  return pageSize == null
                      ? CatalogHandlers.listNamespaces(namespaces, ns)
                      : CatalogHandlers.listNamespaces(namespaces, ns, pageToken, pageSize);
                }));
    router
        .post("/v1/namespaces")
        .handler(
            blocking(
                ctx -> {
                  CreateNamespaceRequest request = read(ctx, CreateNamespaceRequest.class);
                  Object r = CatalogHandlers.createNamespace(namespaces, request);
                  audit(ctx, "create-namespace", request.namespace().toString(), null);
                  return r;
                }));
    router
        .get("/v1/namespaces/:ns")
        .handler(blocking(ctx -> CatalogHandlers.loadNamespace(namespaces, namespace(ctx))));
    router
        .head("/v1/namespaces/:ns")
        .handler(
            blocking(
                ctx -> {
                  CatalogHandlers.namespaceExists(namespaces, namespace(ctx));
                  return null;
                }));
    router
        .delete("/v1/namespaces/:ns")
        .handler(
            blocking(
                ctx -> {
                  CatalogHandlers.dropNamespace(namespaces, namespace(ctx));
                  audit(ctx, "drop-namespace", namespace(ctx).toString(), null);
                  return null;
                }));
    router
        .post("/v1/namespaces/:ns/properties")
        .handler(
            blocking(
                ctx -> {
                  Object r =
                      CatalogHandlers.updateNamespaceProperties(
                          namespaces,
                          namespace(ctx),
                          read(ctx, UpdateNamespacePropertiesRequest.class));
                  audit(ctx, "update-namespace-properties", namespace(ctx).toString(), null);
                  return r;
                }));

    router
        .get("/v1/namespaces/:ns/tables")
        .handler(
            blocking(
                ctx -> {
                  String pageToken = ctx.request().getParam("pageToken");
                  String pageSize = ctx.request().getParam("pageSize");
                  return pageSize == null
                      ? CatalogHandlers.listTables(catalog, namespace(ctx))
                      : CatalogHandlers.listTables(catalog, namespace(ctx), pageToken, pageSize);
                }));
    router
        .post("/v1/namespaces/:ns/tables")
        .handler(
            blocking(
                ctx -> {
                  CreateTableRequest request = read(ctx, CreateTableRequest.class);
                  request.validate();
                  LoadTableResponse r =
                      request.stageCreate()
                          ? CatalogHandlers.stageTableCreate(catalog, namespace(ctx), request)
                          : CatalogHandlers.createTable(catalog, namespace(ctx), request);
                  audit(
                      ctx,
                      request.stageCreate() ? "stage-create-table" : "create-table",
                      namespace(ctx) + "." + request.name(),
                      null);
                  return withConfig(ctx, r);
                }));
    router
        .post("/v1/namespaces/:ns/register")
        .handler(
            blocking(
                ctx -> {
                  RegisterTableRequest request = read(ctx, RegisterTableRequest.class);
                  LoadTableResponse r =
                      CatalogHandlers.registerTable(catalog, namespace(ctx), request);
                  audit(ctx, "register-table", namespace(ctx) + "." + request.name(), null);
                  return withConfig(ctx, r);
                }));
    router
        .get("/v1/namespaces/:ns/tables/:table")
        .handler(
            blocking(
                ctx ->
                    withConfig(
                        ctx,
                        CatalogHandlers.loadTable(
                            catalog, table(ctx), RESTCatalogProperties.SnapshotMode.ALL))));
    router
        .head("/v1/namespaces/:ns/tables/:table")
        .handler(
            blocking(
                ctx -> {
                  CatalogHandlers.tableExists(catalog, table(ctx));
                  return null;
                }));
    router
        .post("/v1/namespaces/:ns/tables/:table")
        .handler(
            blocking(
                ctx -> {
                  LoadTableResponse r =
                      CatalogHandlers.updateTable(
                          commits, table(ctx), read(ctx, UpdateTableRequest.class));
                  Snapshot current = r.tableMetadata().currentSnapshot();
                  audit(
                      ctx,
                      "commit",
                      table(ctx).toString(),
                      current == null ? null : current.snapshotId());
                  return withConfig(ctx, r);
                }));
    router
        .delete("/v1/namespaces/:ns/tables/:table")
        .handler(
            blocking(
                ctx -> {
                  if (Boolean.parseBoolean(ctx.request().getParam("purgeRequested"))) {
                    CatalogHandlers.purgeTable(catalog, table(ctx));
                    audit(ctx, "purge-table", table(ctx).toString(), null);
                  } else {
                    CatalogHandlers.dropTable(catalog, table(ctx));
                    audit(ctx, "drop-table", table(ctx).toString(), null);
                  }
                  return null;
                }));
    router
        .post("/v1/namespaces/:ns/tables/:table/metrics")
        .handler(ctx -> ctx.response().setStatusCode(204).end());
    router
        .post("/v1/tables/rename")
        .handler(
            blocking(
                ctx -> {
                  RenameTableRequest request = read(ctx, RenameTableRequest.class);
                  CatalogHandlers.renameTable(catalog, request);
                  audit(
                      ctx, "rename-table", request.source() + " -> " + request.destination(), null);
                  return null;
                }));
  }

  /**
   * The table with the storage settings its files need: with credentials only when the caller asks
   * for vended credentials (the REST spec's access delegation header; Iceberg's clients send it),
   * and then those its scope allows ({@link VendedCredentials}).
   */
  private LoadTableResponse withConfig(RoutingContext ctx, LoadTableResponse r) {
    String delegation = ctx.request().getHeader(ACCESS_DELEGATION);
    boolean vend = delegation != null && delegation.contains("vended-credentials");
    Principal p = ctx.get(CatalogAccess.PRINCIPAL);
    return LoadTableResponse.builder()
        .withTableMetadata(r.tableMetadata())
        .addAllConfig(r.config())
        .addAllConfig(new HashMap<>(storage.forCaller(p, vend, r.tableMetadata().location())))
        .build();
  }

  /** One line per change to the catalog: who, what, which table, which snapshot. */
  private static void audit(RoutingContext ctx, String action, String target, Long snapshot) {
    CatalogAudit.changed(ctx, action, target, snapshot);
  }

  private Handler<RoutingContext> blocking(CatalogCall call) {
    return ctx ->
        ctx.vertx()
            .executeBlocking((Callable<Object>) () -> call.apply(ctx), false)
            .onSuccess(
                result -> {
                  if (result == null) {
                    ctx.response().setStatusCode(204).end();
                  } else {
                    json(ctx, 200, result);
                  }
                })
            .onFailure(e -> RestErrors.send(ctx, e));
  }

  @FunctionalInterface
  private interface CatalogCall {
    Object apply(RoutingContext ctx) throws Exception;
  }

  private void json(RoutingContext ctx, int status, Object body) {
    try {
      JsonResponses.send(ctx.response(), status, Buffer.buffer(mapper.writeValueAsBytes(body)));
    } catch (Exception e) {
      RestErrors.send(ctx, e);
    }
  }

  private <T> T read(RoutingContext ctx, Class<T> type) throws IOException {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw new IllegalArgumentException("request body is missing");
    }
    return mapper.readValue(body.getBytes(), type);
  }

  private static Namespace namespace(RoutingContext ctx) {
    return namespace(ctx.pathParam("ns"));
  }

  private static Namespace namespace(String decoded) {
    return Namespace.of(decoded.split(NAMESPACE_SEPARATOR, -1));
  }

  static TableIdentifier table(RoutingContext ctx) {
    return TableIdentifier.of(namespace(ctx), ctx.pathParam("table"));
  }
}
