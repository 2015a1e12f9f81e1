"""Volume drivers: the interface, the registry and one package per backend."""
