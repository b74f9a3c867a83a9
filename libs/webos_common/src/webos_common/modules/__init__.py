"""What a module announces and how the kernel finds it: manifests, the registry, hooks, the shell SDK."""
