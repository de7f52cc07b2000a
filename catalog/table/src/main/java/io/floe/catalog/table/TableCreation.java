package io.floe.catalog.table;

import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;

/** Loads one of Floe's tables, creating it (and its namespace) when absent. */
final class TableCreation {
  private TableCreation() {}

  /** Safe to race with other nodes: whoever creates second loads what the first created. */
  static Table ensure(
      Catalog catalog,
      TableIdentifier id,
      Schema schema,
      PartitionSpec spec,
      SortOrder sortOrder,
      Map<String, String> properties) {
    if (catalog instanceof SupportsNamespaces ns && !ns.namespaceExists(id.namespace())) {
      try {
        ns.createNamespace(id.namespace());
      } catch (AlreadyExistsException raced) {
        // another node created it first
      }
    }
    if (catalog.tableExists(id)) {
      return catalog.loadTable(id);
    }
    try {
      return catalog
          .buildTable(id, schema)
          .withPartitionSpec(spec)
          .withSortOrder(sortOrder)
          .withProperties(properties)
          .create();
    } catch (AlreadyExistsException raced) {
      return catalog.loadTable(id);
    }
  }
}
