package io.floe.it.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Which Floe module's main code may use which, as the module poms allow today: {@code common} uses
 * no other module; the table module ({@code catalog/table}: {@code io.floe.catalog.table}, {@code
 * commit}, {@code columns}, {@code connect}) only common; maintenance and local only the table
 * module and common; the catalog service also maintenance; the node the table module and common
 * (never the catalog service, maintenance, local or the router); the router only common; and no
 * main code uses the it-tests' own classes. Here because this module's test class path sees every
 * module; test classes (and test-jars) are left out. A new package fails the test until it belongs
 * to a module here.
 */
@AnalyzeClasses(
    packages = "io.floe",
    importOptions = {ImportOption.DoNotIncludeTests.class, ModuleRulesTest.NoTestJars.class})
class ModuleRulesTest {
  private static final String COMMON = "common";
  private static final String TABLE = "table";
  private static final String MAINTENANCE = "maintenance";
  private static final String SERVICE = "catalog service";
  private static final String LOCAL = "local";
  private static final String NODE = "node";
  private static final String ROUTER = "router";
  private static final String IT = "it-tests";

  @ArchTest
  static final ArchRule modulesUseOnlyWhatTheirPomsAllow =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .ensureAllClassesAreContainedInArchitecture()
          .layer(COMMON)
          .definedBy("io.floe.common..")
          .layer(TABLE)
          .definedBy(
              "io.floe.catalog.table..",
              "io.floe.catalog.commit..",
              "io.floe.catalog.columns..",
              "io.floe.catalog.streams..",
              "io.floe.catalog.connect..")
          .layer(MAINTENANCE)
          .definedBy("io.floe.catalog.maintenance..")
          .layer(SERVICE)
          .definedBy("io.floe.catalog.service..")
          .layer(LOCAL)
          .definedBy("io.floe.catalog.local..")
          .layer(NODE)
          .definedBy("io.floe.node..")
          .layer(ROUTER)
          .definedBy("io.floe.router..")
          .layer(IT)
          .definedBy("io.floe.it..")
          .whereLayer(COMMON)
          .mayNotAccessAnyLayer()
          .whereLayer(TABLE)
          .mayOnlyAccessLayers(COMMON)
          .whereLayer(MAINTENANCE)
          .mayOnlyAccessLayers(TABLE, COMMON)
          .whereLayer(SERVICE)
          .mayOnlyAccessLayers(MAINTENANCE, TABLE, COMMON)
          .whereLayer(LOCAL)
          .mayOnlyAccessLayers(TABLE, COMMON)
          .whereLayer(NODE)
          .mayOnlyAccessLayers(TABLE, COMMON)
          .whereLayer(ROUTER)
          .mayOnlyAccessLayers(COMMON)
          .whereLayer(IT)
          .mayNotBeAccessedByAnyLayer();

  /** Test-jars as Maven installs them (in the reactor they are test-classes folders). */
  static final class NoTestJars implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("-tests.jar");
    }
  }
}
