package io.floe.common.config;

/** A setting that is missing or wrong; its message is the one line an operator sees at start-up. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
