package io.floe.common.config;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Raw settings from environment variables and an optional properties file, with typed, validated
 * getters. A setting {@code http.port} is read from {@code FLOE_HTTP_PORT} first, then from the
 * file. Every failure names the setting in one line.
 */
public final class Settings {
  /** Environment variable naming the optional properties file. */
  public static final String CONFIG_FILE_ENV = "FLOE_CONFIG_FILE";

  private final Map<String, String> env;
  private final Properties file;

  Settings(Map<String, String> env, Properties file) {
    this.env = Map.copyOf(env);
    this.file = file;
  }

  /** Reads the process environment and, when {@code FLOE_CONFIG_FILE} is set, that file. */
  public static Settings fromEnvironment() {
    return from(System.getenv());
  }

  /** Settings from the given environment (and the file it names, if any). */
  public static Settings from(Map<String, String> env) {
    Properties props = new Properties();
    String path = env.get(CONFIG_FILE_ENV);
    if (path != null && !path.isBlank()) {
      try (Reader reader = Files.newBufferedReader(Path.of(path))) {
        props.load(reader);
      } catch (IOException | RuntimeException e) {
        throw new ConfigException(
            CONFIG_FILE_ENV + ": cannot read configuration file '" + path + "': " + e.getMessage());
      }
    }
    return new Settings(env, props);
  }

  /** Settings from explicit key/value pairs (keys in file form, such as {@code http.port}). */
  public static Settings of(Map<String, String> values) {
    Properties props = new Properties();
    props.putAll(new HashMap<>(values));
    return new Settings(Map.of(), props);
  }

  /** The environment variable that sets {@code key}. */
  public static String envName(String key) {
    return "FLOE_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private String raw(String key) {
    String value = env.get(envName(key));
    if (value == null) {
      value = file.getProperty(key);
    }
    return value == null ? null : value.trim();
  }

  private static String label(String key) {
    return envName(key) + " (" + key + ")";
  }

  private ConfigException bad(String key, String value, String expected) {
    return new ConfigException(label(key) + " must be " + expected + ", got '" + value + "'");
  }

  /**
   * Whether the setting is given at all, even as an empty value (which {@link #string} treats as
   * unset).
   */
  public boolean isSet(String key) {
    return raw(key) != null;
  }

  public String string(String key, String defaultValue) {
    String value = raw(key);
    return value == null || value.isEmpty() ? defaultValue : value;
  }

  public String string(String key, String defaultValue, Predicate<String> valid, String expected) {
    String value = string(key, defaultValue);
    if (value != null && !valid.test(value)) {
      throw bad(key, value, expected);
    }
    return value;
  }

  public long longValue(String key, long defaultValue, long min, long max) {
    String value = raw(key);
    if (value == null || value.isEmpty()) {
      return defaultValue;
    }
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw bad(key, value, "an integer in " + min + ".." + max);
    }
    if (parsed < min || parsed > max) {
      throw bad(key, value, "an integer in " + min + ".." + max);
    }
    return parsed;
  }

  public int intValue(String key, int defaultValue, int min, int max) {
    return (int) longValue(key, defaultValue, min, max);
  }

  /**
   * A duration in seconds, fractions allowed ({@code 0.5}, {@code 30}); every Floe duration setting
   * is named {@code *-seconds} and read here, so all of them take the same unit.
   */
  public Duration seconds(String key, Duration defaultValue, Duration min, Duration max) {
    String value = raw(key);
    if (value == null || value.isEmpty()) {
      return defaultValue;
    }
    String expected = "a number of seconds in " + secondsText(min) + ".." + secondsText(max);
    double parsed;
    try {
      parsed = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw bad(key, value, expected);
    }
    if (!Double.isFinite(parsed)) {
      throw bad(key, value, expected);
    }
    Duration d = Duration.ofNanos(Math.round(parsed * 1e9));
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw bad(key, value, expected);
    }
    return d;
  }

  private static String secondsText(Duration d) {
    return BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString();
  }

  /** A byte size such as {@code 64MiB}, {@code 512k} or {@code 1048576}. */
  public long bytes(String key, long defaultValue, long min, long max) {
    String value = raw(key);
    if (value == null || value.isEmpty()) {
      return defaultValue;
    }
    String expected = "a byte size in " + min + ".." + max + " (e.g. 1048576, 512KiB, 64MiB, 2GiB)";
    long parsed;
    try {
      parsed = parseBytes(value);
    } catch (NumberFormatException e) {
      throw bad(key, value, expected);
    }
    if (parsed < min || parsed > max) {
      throw bad(key, value, expected);
    }
    return parsed;
  }

  public static long parseBytes(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT).replace(" ", "");
    int i = 0;
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      i++;
    }
    if (i == 0) {
      throw new NumberFormatException(text);
    }
    long number = Long.parseLong(s.substring(0, i));
    long unit =
        switch (s.substring(i)) {
          case "", "b" -> 1L;
          case "k", "kb", "kib" -> 1L << 10;
          case "m", "mb", "mib" -> 1L << 20;
          case "g", "gb", "gib" -> 1L << 30;
          case "t", "tb", "tib" -> 1L << 40;
          default -> throw new NumberFormatException(text);
        };
    return Math.multiplyExact(number, unit);
  }

  public <E extends Enum<E>> E enumValue(String key, E defaultValue) {
    String value = raw(key);
    if (value == null || value.isEmpty()) {
      return defaultValue;
    }
    Class<E> type = defaultValue.getDeclaringClass();
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(value.replace('-', '_'))) {
        return constant;
      }
    }
    StringBuilder names = new StringBuilder();
    for (E constant : type.getEnumConstants()) {
      names
          .append(names.length() == 0 ? "" : "|")
          .append(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    throw bad(key, value, "one of " + names);
  }

  /**
   * Every setting under {@code prefix} (prefix removed): all such keys of the file, and the given
   * keys from the environment, where they win. Used to pass through Iceberg catalog properties.
   */
  public Map<String, String> withPrefix(String prefix, Collection<String> envKeys) {
    Map<String, String> out = new TreeMap<>();
    for (String name : file.stringPropertyNames()) {
      if (name.startsWith(prefix)) {
        out.put(name.substring(prefix.length()), file.getProperty(name).trim());
      }
    }
    for (String key : envKeys) {
      String value = env.get(envName(prefix + key));
      if (value != null) {
        out.put(key, value.trim());
      }
    }
    return out;
  }

  /** A boolean: true/false/yes/no/1/0. */
  public boolean bool(String key, boolean defaultValue) {
    String value = raw(key);
    if (value == null || value.isEmpty()) {
      return defaultValue;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "1", "on" -> true;
      case "false", "no", "0", "off" -> false;
      default -> throw bad(key, value, "true or false");
    };
  }

  public Path path(String key, String defaultValue) {
    String value = string(key, defaultValue);
    if (value == null) {
      return null;
    }
    try {
      return Path.of(value);
    } catch (RuntimeException e) {
      throw bad(key, value, "a file system path");
    }
  }
}
