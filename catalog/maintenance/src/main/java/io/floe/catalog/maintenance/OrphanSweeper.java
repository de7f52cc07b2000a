package io.floe.catalog.maintenance;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * Removes files under the table's location that no snapshot, manifest or metadata file refers to
 * and that are older than the orphan age: uploads of flushes that crashed or failed before their
 * commit, compaction outputs whose commit lost, metadata files of failed commits. A file younger
 * than the orphan age is never touched, so an upload a node is about to commit is safe (a node
 * commits within Iceberg's commit retry time, 30 minutes; the age is at least 2 hours).
 */
final class OrphanSweeper {
  /** The result of one sweep. */
  record Sweep(int listed, int removed) {}

  /** Whether this table's storage can list its files (S3 and most object stores can). */
  static boolean supported(Table table) {
    return table.io() instanceof SupportsPrefixOperations;
  }

  Sweep sweep(Table table, long olderThanMillis) throws IOException {
    SupportsPrefixOperations io = (SupportsPrefixOperations) table.io();
    table.refresh();
    Set<String> referenced = referenced(table);
    int listed = 0;
    int removed = 0;
    String location = table.location().endsWith("/") ? table.location() : table.location() + "/";
    for (FileInfo f : io.listPrefix(location)) {
      listed++;
      if (f.createdAtMillis() < olderThanMillis && !referenced.contains(normalize(f.location()))) {
        io.deleteFile(f.location());
        removed++;
      }
    }
    return new Sweep(listed, removed);
  }

  /**
   * Every file the table's metadata refers to: metadata files, manifest lists, manifests, data and
   * delete files.
   */
  static Set<String> referenced(Table table) throws IOException {
    Set<String> paths = new HashSet<>();
    ReachableFileUtil.metadataFileLocations(table, false).forEach(p -> paths.add(normalize(p)));
    paths.add(normalize(ReachableFileUtil.versionHintLocation(table)));
    ReachableFileUtil.statisticsFilesLocations(table).forEach(p -> paths.add(normalize(p)));
    Set<String> manifests = new HashSet<>();
    for (Snapshot s : table.snapshots()) {
      if (s.manifestListLocation() != null) {
        paths.add(normalize(s.manifestListLocation()));
      }
      List<ManifestFile> all = s.allManifests(table.io());
      for (ManifestFile m : all) {
        if (manifests.add(m.path())) {
          paths.add(normalize(m.path()));
          if (m.content() == ManifestContent.DELETES) {
            try (ManifestReader<DeleteFile> deletes =
                ManifestFiles.readDeleteManifest(m, table.io(), table.specs())) {
              deletes.forEach(d -> paths.add(normalize(d.location())));
            }
          } else {
            try (CloseableIterable<String> files =
                ManifestFiles.readPaths(m, table.io(), table.specs())) {
              files.forEach(p -> paths.add(normalize(p)));
            }
          }
        }
      }
    }
    return paths;
  }

  /** The same object under the spellings object stores are written with (s3, s3a, s3n). */
  static String normalize(String location) {
    if (location.startsWith("s3a://") || location.startsWith("s3n://")) {
      return "s3://" + location.substring(6);
    }
    return location;
  }
}
