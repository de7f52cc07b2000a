package io.floe.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
  private static final Duration MIN = Duration.ofMillis(50);
  private static final Duration MAX = Duration.ofHours(1);

  @Test
  void secondsTakeFractionsAndTheEnvironmentWins() {
    Settings s = Settings.from(Map.of("FLOE_ROUTER_HEALTH_INTERVAL_SECONDS", "0.25"));
    assertThat(s.seconds("router.health-interval-seconds", Duration.ofSeconds(1), MIN, MAX))
        .isEqualTo(Duration.ofMillis(250));
    assertThat(s.seconds("router.other-seconds", Duration.ofSeconds(7), MIN, MAX))
        .isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void aBadValueNamesTheVariableTheSettingAndTheRange() {
    Settings s = Settings.of(Map.of("flush.max-age-seconds", "0.01", "http.port", "eighty"));
    assertThatThrownBy(() -> s.seconds("flush.max-age-seconds", Duration.ofSeconds(30), MIN, MAX))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "FLOE_FLUSH_MAX_AGE_SECONDS (flush.max-age-seconds) must be a number of seconds in 0.05..3600,"
                + " got '0.01'");
    assertThatThrownBy(() -> s.intValue("http.port", 8081, 0, 65_535))
        .hasMessage("FLOE_HTTP_PORT (http.port) must be an integer in 0..65535, got 'eighty'");
  }

  @Test
  void byteSizesTakeUnits() {
    Settings s = Settings.of(Map.of("a", "64MiB", "b", "512k", "c", "12 parsecs"));
    assertThat(s.bytes("a", 0, 0, Long.MAX_VALUE)).isEqualTo(64L << 20);
    assertThat(s.bytes("b", 0, 0, Long.MAX_VALUE)).isEqualTo(512L << 10);
    assertThatThrownBy(() -> s.bytes("c", 0, 0, Long.MAX_VALUE))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLOE_C (c) must be a byte size");
  }
}
