package io.floe.common.auth;

import io.floe.common.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokens a service accepts, from a file of hashed tokens (the tokens themselves are never
 * stored), re-read when it changes. One token per line: its name, its scopes (comma separated;
 * {@code ingest:PATTERN} limits ingestion to matching streams, {@code *} a wildcard), and {@code
 * sha256:} and the hex SHA-256 of the token; {@code #} starts a comment:
 *
 * <pre>
 * clicks-producer  ingest:clicks,ingest:clicks-*   sha256:5e88...
 * operator         read,admin                      sha256:2bb8...
 * </pre>
 *
 * Optional fields after the hash set the token's quota: {@code events-per-second=5000}, {@code
 * bytes-per-second=10MiB} (see {@link Quotas}); and {@code partition=N} binds a {@code
 * catalog:commit} token to the one partition whose state it may commit (one node's token). A
 * presented token is hashed and looked up by its hash, then compared in constant time.
 */
public final class TokenStore {
  private static final Logger LOG = LoggerFactory.getLogger(TokenStore.class);
  private static final String SHA256 = "sha256:";
  private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

  private record Entry(byte[] hash, Principal principal) {}

  private final Path file;
  private volatile Map<String, Entry> byHash;
  private volatile FileTime version;
  private volatile long lastCheck;

  private TokenStore(Path file) {
    this.file = file;
  }

  /**
   * Reads the file; a malformed line stops start-up naming the file, the line and what is wrong.
   */
  public static TokenStore load(Path file, String setting) {
    TokenStore store = new TokenStore(file);
    try {
      store.version = Files.getLastModifiedTime(file);
      store.byHash = parse(Files.readAllLines(file, StandardCharsets.UTF_8), file);
    } catch (IOException e) {
      throw new ConfigException(
          setting + ": cannot read the token file " + file + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(setting + ": " + e.getMessage());
    }
    store.lastCheck = System.nanoTime();
    return store;
  }

  /** The principal holding {@code token}, or null. */
  public Principal find(String token) {
    reloadIfChanged();
    byte[] hash = sha256(token);
    Entry e = byHash.get(HexFormat.of().formatHex(hash));
    return e != null && MessageDigest.isEqual(e.hash(), hash) ? e.principal() : null;
  }

  /** How many tokens are loaded. */
  public int size() {
    return byHash.size();
  }

  /** The line to put in a token file for {@code token}. */
  public static String line(String name, String scopes, String token) {
    return name + " " + scopes + " " + SHA256 + HexFormat.of().formatHex(sha256(token));
  }

  private void reloadIfChanged() {
    long now = System.nanoTime();
    if (now - lastCheck < CHECK_EVERY_NANOS) {
      return;
    }
    lastCheck = now;
    try {
      FileTime t = Files.getLastModifiedTime(file);
      if (t.equals(version)) {
        return;
      }
      Map<String, Entry> next = parse(Files.readAllLines(file, StandardCharsets.UTF_8), file);
      byHash = next;
      version = t;
      LOG.info("token file {} reloaded: {} tokens", file, next.size());
    } catch (IOException | IllegalArgumentException e) {
      LOG.error(
          "token file {} not reloaded, the previous tokens stay in use: {}", file, e.getMessage());
    }
  }

  static Map<String, Entry> parse(List<String> lines, Path file) {
    Map<String, Entry> out = new HashMap<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).replaceAll("#.*", "").trim();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + " line " + (i + 1);
      String[] f = line.split("\\s+");
      if (f.length < 3) {
        throw new IllegalArgumentException(
            where
                + ": expected 'NAME SCOPES sha256:HEX [events-per-second=N]"
                + " [bytes-per-second=SIZE] [partition=N]'");
      }
      Options options = options(f, where);
      if (!f[0].matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(where + ": the name must be 1-64 of A-Z a-z 0-9 . _ -");
      }
      if (!names.add(f[0])) {
        throw new IllegalArgumentException(where + ": the name " + f[0] + " is used twice");
      }
      Set<Scope> scopes = EnumSet.noneOf(Scope.class);
      List<String> patterns = new ArrayList<>();
      for (String s : f[1].split(",")) {
        if (s.startsWith("ingest:")) {
          String pattern = s.substring("ingest:".length());
          if (pattern.isEmpty()) {
            throw new IllegalArgumentException(where + ": 'ingest:' needs a stream pattern");
          }
          scopes.add(Scope.INGEST);
          patterns.add(pattern);
        } else {
          Scope scope = Scope.parse(s);
          if (scope == null) {
            throw new IllegalArgumentException(
                where
                    + ": unknown scope '"
                    + s
                    + "' (ingest, ingest:PATTERN, read, admin,"
                    + " catalog:read, catalog:commit, router)");
          }
          scopes.add(scope);
        }
      }
      if (scopes.contains(Scope.INGEST) && f[1].matches("(^|.*,)ingest(,.*|$)")) {
        patterns.clear(); // a plain "ingest" wins over patterns: every stream
      }
      if (!f[2].startsWith(SHA256) || !f[2].substring(SHA256.length()).matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException(
            where + ": the token must be given as sha256: and 64 lower-case hex digits");
      }
      String hex = f[2].substring(SHA256.length());
      if (out.containsKey(hex)) {
        throw new IllegalArgumentException(where + ": the same token is listed twice");
      }
      if (options.partition().isPresent() && !scopes.contains(Scope.CATALOG_COMMIT)) {
        throw new IllegalArgumentException(
            where + ": partition= binds a catalog:commit token; this token has not that scope");
      }
      out.put(
          hex,
          new Entry(
              HexFormat.of().parseHex(hex),
              new Principal(f[0], scopes, patterns, options.quota(), options.partition())));
    }
    return Map.copyOf(out);
  }

  /** The optional fields after a line's hash. */
  private record Options(Quotas.Quota quota, OptionalInt partition) {}

  private static Options options(String[] f, String where) {
    double events = 0;
    double bytes = 0;
    OptionalInt partition = OptionalInt.empty();
    for (int i = 3; i < f.length; i++) {
      String[] kv = f[i].split("=", 2);
      if (kv[0].equals("partition")) {
        if (kv.length < 2 || !kv[1].matches("[0-9]{1,7}")) {
          throw new IllegalArgumentException(
              where + ": '" + f[i] + "' is not partition=N (a partition number, 0 or more)");
        }
        partition = OptionalInt.of(Integer.parseInt(kv[1]));
        continue;
      }
      double value = kv.length == 2 ? rate(kv[1]) : -1;
      if (!(value > 0) || Double.isInfinite(value)) {
        throw new IllegalArgumentException(
            where
                + ": '"
                + f[i]
                + "' is not events-per-second=N or bytes-per-second=SIZE"
                + " (a positive number; sizes may end in KiB, MiB or GiB)");
      }
      switch (kv[0]) {
        case "events-per-second" -> events = value;
        case "bytes-per-second" -> bytes = value;
        default ->
            throw new IllegalArgumentException(
                where
                    + ": unknown field '"
                    + kv[0]
                    + "' (events-per-second, bytes-per-second, partition)");
      }
    }
    return new Options(new Quotas.Quota(events, bytes), partition);
  }

  private static double rate(String text) {
    long unit = 1;
    String t = text;
    for (String[] u : new String[][] {{"KiB", "1024"}, {"MiB", "1048576"}, {"GiB", "1073741824"}}) {
      if (t.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length());
      }
    }
    try {
      return Double.parseDouble(t) * unit;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
