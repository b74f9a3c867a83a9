"""The Abstract File System's vocabulary: URNs, the DataSource protocol, remote sources, the disk cache."""
