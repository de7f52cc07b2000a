package io.floe.catalog.commit;

import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.FileIO;

/** Whether the metadata files a snapshot added are still there. */
final class SnapshotFiles {
  private SnapshotFiles() {}

  /**
   * The snapshot's manifest list and the manifests it added, where they do not exist: without them
   * the snapshot cannot be scanned and no commit can be made on top of it. Manifests of earlier
   * snapshots are theirs to check.
   */
  static List<String> missing(FileIO io, Snapshot snapshot) {
    if (!exists(io, snapshot.manifestListLocation())) {
      return List.of(snapshot.manifestListLocation());
    }
    List<String> missing = new ArrayList<>();
    for (ManifestFile manifest : snapshot.allManifests(io)) {
      Long addedBy = manifest.snapshotId();
      if (addedBy != null && addedBy == snapshot.snapshotId() && !exists(io, manifest.path())) {
        missing.add(manifest.path());
      }
    }
    return missing;
  }

  private static boolean exists(FileIO io, String path) {
    try {
      return io.newInputFile(path).exists();
    } catch (NotFoundException e) {
      // some FileIOs (the in-memory one) refuse an input file for a path that does not exist
      return false;
    }
  }
}
