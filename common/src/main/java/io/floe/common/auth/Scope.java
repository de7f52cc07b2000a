package io.floe.common.auth;

import java.util.Locale;

/** What a token may do. */
public enum Scope {
  /** send events (to every stream, or to the streams its patterns name) and read receipts */
  INGEST("ingest"),
  /** status and metrics */
  READ("read"),
  /** flush, salvage, membership, destructive catalog operations */
  ADMIN("admin"),
  /** query engines: load tables through the catalog service */
  CATALOG_READ("catalog:read"),
  /** nodes: create the table, append and claim through the catalog service */
  CATALOG_COMMIT("catalog:commit"),
  /** a router forwarding requests it authenticated itself, on behalf of the producer it names */
  ROUTER("router"),
  /** a node handing the files it wrote to the cluster's committer (another node) */
  CLUSTER("cluster");

  private final String text;

  Scope(String text) {
    this.text = text;
  }

  public String text() {
    return text;
  }

  /** The scope a token file names ({@code ingest}, {@code catalog:read}, ...), or null. */
  public static Scope parse(String text) {
    for (Scope s : values()) {
      if (s.text.equals(text.toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    return null;
  }
}
