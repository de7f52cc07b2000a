package io.floe.node;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.LocationProvider;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.util.List;
import java.util.Set;

/**
 * The node's packages stack in levels: each uses only levels below it, never a sibling on its own
 * level and never one above. A new package fails the test until it gets a level in {@link #LEVELS}.
 * Checked on the main classes' bytecode (a constant the compiler inlines leaves no trace there).
 */
@AnalyzeClasses(locations = PackageLevelsTest.MainClasses.class)
class PackageLevelsTest {
  private static final String ENTRY = "entry points";
  private static final String NODE = "Node";

  /** Top to bottom; besides the two levels of the root package, each name is a package. */
  private static final List<List<String>> LEVELS =
      List.of(
          List.of(ENTRY),
          List.of(NODE),
          List.of("http"),
          List.of("config"),
          List.of("flush"),
          List.of("commit"),
          List.of("columns"),
          List.of("buffer", "decode"),
          List.of("json"),
          List.of("metrics", "event", "error"));

  private static final DescribedPredicate<JavaClass> ENTRY_POINTS =
      belongToAnyOf(NodeMain.class, SalvageMain.class);

  @ArchTest static final ArchRule eachLevelUsesOnlyLevelsBelowIt = levels();

  /** The node's main classes only (scanning the whole class path for the package is slow). */
  static final class MainClasses implements LocationProvider {
    @Override
    public Set<Location> get(Class<?> testClass) {
      return Set.of(Location.of(Node.class.getProtectionDomain().getCodeSource().getLocation()));
    }
  }

  private static ArchRule levels() {
    LayeredArchitecture rule =
        layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .ensureAllClassesAreContainedInArchitecture();
    for (List<String> level : LEVELS) {
      for (String name : level) {
        rule =
            switch (name) {
              case ENTRY -> rule.layer(name).definedBy(ENTRY_POINTS);
              case NODE ->
                  rule.layer(name)
                      .definedBy(resideInAPackage("io.floe.node").and(ENTRY_POINTS.negate()));
              default -> rule.layer(name).definedBy("io.floe.node." + name + "..");
            };
      }
    }
    for (int i = 0; i < LEVELS.size(); i++) {
      String[] below =
          LEVELS.subList(i + 1, LEVELS.size()).stream()
              .flatMap(List::stream)
              .toArray(String[]::new);
      for (String name : LEVELS.get(i)) {
        rule =
            below.length == 0
                ? rule.whereLayer(name).mayNotAccessAnyLayer()
                : rule.whereLayer(name).mayOnlyAccessLayers(below);
      }
    }
    return rule;
  }
}
