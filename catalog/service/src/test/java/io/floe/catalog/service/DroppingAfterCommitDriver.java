package io.floe.catalog.service;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A JDBC driver over SQLite ({@code jdbc:floe-dropping:sqlite:<file>}) that can lose the connection
 * right after an update of a table pointer committed: the update is applied, and the caller gets
 * SQLSTATE 08006 (connection failure), as from PostgreSQL when the network or the primary fails
 * between COMMIT and its answer. Iceberg's JDBC pool then reconnects and runs the update again.
 */
final class DroppingAfterCommitDriver implements Driver {
  static final String PREFIX = "jdbc:floe-dropping:";
  static final DroppingAfterCommitDriver INSTANCE = new DroppingAfterCommitDriver();

  /** Pointer updates to apply and then fail as a dropped connection. */
  final AtomicInteger dropAfterUpdates = new AtomicInteger();

  /** Once a connection was dropped: reads of table pointers that fail, as the database is away. */
  final AtomicInteger failReadsAfterDrop = new AtomicInteger();

  private final AtomicInteger failingReads = new AtomicInteger();

  static {
    try {
      DriverManager.registerDriver(INSTANCE);
    } catch (SQLException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private DroppingAfterCommitDriver() {}

  /** No more dropped connections or failed reads. */
  void heal() {
    dropAfterUpdates.set(0);
    failReadsAfterDrop.set(0);
    failingReads.set(0);
  }

  @Override
  public Connection connect(String url, Properties info) throws SQLException {
    if (!acceptsURL(url)) {
      return null;
    }
    Connection real = DriverManager.getConnection("jdbc:" + url.substring(PREFIX.length()), info);
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              Object result = invoke(real, method, args);
              if (method.getName().equals("prepareStatement") && args != null) {
                return statement((PreparedStatement) result, (String) args[0]);
              }
              return result;
            });
  }

  private PreparedStatement statement(PreparedStatement real, String sql) {
    String s = sql.trim().toLowerCase(Locale.ROOT);
    boolean pointerUpdate = s.startsWith("update") && s.contains("metadata_location");
    boolean pointerRead =
        s.startsWith("select") && s.contains("from iceberg_tables") && s.contains("table_name = ?");
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (pointerRead
              && method.getName().equals("executeQuery")
              && failingReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new SQLException("injected: the database is away", "XX000");
          }
          Object result = invoke(real, method, args);
          if (pointerUpdate
              && method.getName().equals("executeUpdate")
              && dropAfterUpdates.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            failingReads.set(failReadsAfterDrop.get());
            throw new SQLException("injected: connection lost after the update committed", "08006");
          }
          return result;
        };
    return (PreparedStatement)
        Proxy.newProxyInstance(
            PreparedStatement.class.getClassLoader(),
            new Class<?>[] {PreparedStatement.class},
            handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Override
  public boolean acceptsURL(String url) {
    return url != null && url.startsWith(PREFIX);
  }

  @Override
  public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
    return new DriverPropertyInfo[0];
  }

  @Override
  public int getMajorVersion() {
    return 1;
  }

  @Override
  public int getMinorVersion() {
    return 0;
  }

  @Override
  public boolean jdbcCompliant() {
    return false;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }
}
