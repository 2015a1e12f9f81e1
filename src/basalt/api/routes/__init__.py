"""Route modules, one per aggregate; basalt.api.app includes them all."""
