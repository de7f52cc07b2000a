package io.floe.catalog.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MaintenanceConfigTest {
  @Test
  void theDefaultsAreTheDocumentedOnes() {
    MaintenanceConfig c = MaintenanceConfig.load(Settings.of(Map.of()));
    assertThat(c.interval()).isEqualTo(Duration.ofSeconds(300));
    assertThat(c.compactAfter()).isEqualTo(Duration.ofSeconds(7200));
    assertThat(c.smallFilePercent()).isEqualTo(75);
    assertThat(c.snapshotRetention()).isEqualTo(Duration.ofSeconds(86400));
    assertThat(c.minSnapshots()).isEqualTo(100);
    assertThat(c.maxSnapshots()).isEqualTo(1000);
    assertThat(c.orphanAge()).isEqualTo(Duration.ofDays(3));
    assertThat(c.orphanInterval()).isEqualTo(Duration.ofSeconds(21600));
    assertThat(c.maxManifests()).isEqualTo(50);
    assertThat(c.lease()).isEqualTo(Duration.ofSeconds(900));
    assertThat(c.holder()).isNotBlank();
  }

  @Test
  void eachSettingIsReadUnderItsName() {
    MaintenanceConfig c =
        MaintenanceConfig.load(
            Settings.of(
                Map.ofEntries(
                    Map.entry("maintenance.interval-seconds", "60"),
                    Map.entry("maintenance.compact-after-seconds", "10"),
                    Map.entry("maintenance.small-file-percent", "50"),
                    Map.entry("maintenance.snapshot-retention-seconds", "120"),
                    Map.entry("maintenance.min-snapshots", "3"),
                    Map.entry("maintenance.max-snapshots", "5"),
                    Map.entry("maintenance.orphan-age-seconds", "7200"),
                    Map.entry("maintenance.orphan-interval-seconds", "30"),
                    Map.entry("maintenance.max-manifests", "4"),
                    Map.entry("maintenance.lease-seconds", "61"),
                    Map.entry("maintenance.holder", "me"))));
    assertThat(c)
        .isEqualTo(
            new MaintenanceConfig(
                Duration.ofSeconds(60),
                Duration.ofSeconds(10),
                50,
                Duration.ofSeconds(120),
                3,
                5,
                Duration.ofSeconds(7200),
                Duration.ofSeconds(30),
                4,
                Duration.ofSeconds(61),
                "me"));
  }

  @Test
  void aLeaseNotLongerThanTheIntervalIsRefusedWhenSetAndDerivedOtherwise() {
    assertThatThrownBy(
            () ->
                MaintenanceConfig.load(
                    Settings.of(
                        Map.of(
                            "maintenance.interval-seconds", "60",
                            "maintenance.lease-seconds", "60"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("maintenance.lease-seconds")
        .hasMessageContaining("must be longer than maintenance.interval-seconds");
    assertThat(
            MaintenanceConfig.load(Settings.of(Map.of("maintenance.interval-seconds", "3600")))
                .lease())
        .isEqualTo(Duration.ofHours(3));
  }

  @Test
  void aSnapshotBoundBelowTheFloorIsRefused() {
    assertThatThrownBy(
            () ->
                MaintenanceConfig.load(
                    Settings.of(
                        Map.of(
                            "maintenance.min-snapshots", "200",
                            "maintenance.max-snapshots", "150"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("maintenance.max-snapshots=150")
        .hasMessageContaining("must not be below maintenance.min-snapshots (200)");
  }
}
