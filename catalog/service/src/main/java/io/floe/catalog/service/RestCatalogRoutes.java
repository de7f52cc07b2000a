package io.floe.catalog.service;

import io.floe.common.http.JsonResponses;
import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
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
  private static final List<Endpoint> ENDPOINTS = List.of(
      Endpoint.V1_LIST_NAMESPACES, Endpoint.V1_LOAD_NAMESPACE, Endpoint.V1_NAMESPACE_EXISTS,
      Endpoint.V1_CREATE_NAMESPACE, Endpoint.V1_UPDATE_NAMESPACE, Endpoint.V1_DELETE_NAMESPACE,
      Endpoint.V1_LIST_TABLES, Endpoint.V1_LOAD_TABLE, Endpoint.V1_TABLE_EXISTS, Endpoint.V1_CREATE_TABLE,
      Endpoint.V1_UPDATE_TABLE, Endpoint.V1_DELETE_TABLE, Endpoint.V1_RENAME_TABLE,
      Endpoint.V1_REGISTER_TABLE, Endpoint.V1_REPORT_METRICS);

  private final Catalog catalog;
  private final SupportsNamespaces namespaces;
  private final Map<String, String> clientConfig;
  private final ObjectMapper mapper = mapper();

  RestCatalogRoutes(Catalog catalog, Map<String, String> clientConfig) {
    this.catalog = catalog;
    this.namespaces = (SupportsNamespaces) catalog;
    this.clientConfig = clientConfig;
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
    router.route("/v1/*").handler(BodyHandler.create(false).setBodyLimit(64L << 20));
    router.get("/v1/config").handler(ctx -> json(ctx, 200, ConfigResponse.builder()
        .withDefaults(new java.util.HashMap<>(clientConfig))
        .withDefault(RESTCatalogProperties.NAMESPACE_SEPARATOR, "%1F")
        .withEndpoints(ENDPOINTS)
        .build()));

    router.get("/v1/namespaces").handler(blocking(ctx -> {
      String parent = ctx.request().getParam("parent");
      Namespace ns = parent == null ? Namespace.empty() : namespace(parent);
      String pageToken = ctx.request().getParam("pageToken");
      String pageSize = ctx.request().getParam("pageSize");
      return pageSize == null ? CatalogHandlers.listNamespaces(namespaces, ns)
          : CatalogHandlers.listNamespaces(namespaces, ns, pageToken, pageSize);
    }));
    router.post("/v1/namespaces").handler(blocking(ctx ->
        CatalogHandlers.createNamespace(namespaces, read(ctx, CreateNamespaceRequest.class))));
    router.get("/v1/namespaces/:ns").handler(blocking(ctx ->
        CatalogHandlers.loadNamespace(namespaces, namespace(ctx))));
    router.head("/v1/namespaces/:ns").handler(blocking(ctx -> {
      CatalogHandlers.namespaceExists(namespaces, namespace(ctx));
      return null;
    }));
    router.delete("/v1/namespaces/:ns").handler(blocking(ctx -> {
      CatalogHandlers.dropNamespace(namespaces, namespace(ctx));
      return null;
    }));
    router.post("/v1/namespaces/:ns/properties").handler(blocking(ctx ->
        CatalogHandlers.updateNamespaceProperties(namespaces, namespace(ctx),
            read(ctx, UpdateNamespacePropertiesRequest.class))));

    router.get("/v1/namespaces/:ns/tables").handler(blocking(ctx -> {
      String pageToken = ctx.request().getParam("pageToken");
      String pageSize = ctx.request().getParam("pageSize");
      return pageSize == null ? CatalogHandlers.listTables(catalog, namespace(ctx))
          : CatalogHandlers.listTables(catalog, namespace(ctx), pageToken, pageSize);
    }));
    router.post("/v1/namespaces/:ns/tables").handler(blocking(ctx -> {
      CreateTableRequest request = read(ctx, CreateTableRequest.class);
      request.validate();
      return withConfig(request.stageCreate()
          ? CatalogHandlers.stageTableCreate(catalog, namespace(ctx), request)
          : CatalogHandlers.createTable(catalog, namespace(ctx), request));
    }));
    router.post("/v1/namespaces/:ns/register").handler(blocking(ctx -> withConfig(
        CatalogHandlers.registerTable(catalog, namespace(ctx), read(ctx, RegisterTableRequest.class)))));
    router.get("/v1/namespaces/:ns/tables/:table").handler(blocking(ctx -> withConfig(
        CatalogHandlers.loadTable(catalog, table(ctx), RESTCatalogProperties.SnapshotMode.ALL))));
    router.head("/v1/namespaces/:ns/tables/:table").handler(blocking(ctx -> {
      CatalogHandlers.tableExists(catalog, table(ctx));
      return null;
    }));
    router.post("/v1/namespaces/:ns/tables/:table").handler(blocking(ctx -> withConfig(
        CatalogHandlers.updateTable(catalog, table(ctx), read(ctx, UpdateTableRequest.class)))));
    router.delete("/v1/namespaces/:ns/tables/:table").handler(blocking(ctx -> {
      if (Boolean.parseBoolean(ctx.request().getParam("purgeRequested"))) {
        CatalogHandlers.purgeTable(catalog, table(ctx));
      } else {
        CatalogHandlers.dropTable(catalog, table(ctx));
      }
      return null;
    }));
    router.post("/v1/namespaces/:ns/tables/:table/metrics").handler(ctx -> ctx.response().setStatusCode(204).end());
    router.post("/v1/tables/rename").handler(blocking(ctx -> {
      CatalogHandlers.renameTable(catalog, read(ctx, RenameTableRequest.class));
      return null;
    }));
  }

  private LoadTableResponse withConfig(LoadTableResponse r) {
    return LoadTableResponse.builder().withTableMetadata(r.tableMetadata()).addAllConfig(r.config())
        .addAllConfig(new java.util.HashMap<>(clientConfig)).build();
  }

  private Handler<RoutingContext> blocking(CatalogCall call) {
    return ctx -> ctx.vertx().executeBlocking((Callable<Object>) () -> call.apply(ctx), false)
        .onSuccess(result -> {
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

  private <T> T read(RoutingContext ctx, Class<T> type) throws java.io.IOException {
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

  private static TableIdentifier table(RoutingContext ctx) {
    return TableIdentifier.of(namespace(ctx), ctx.pathParam("table"));
  }
}
