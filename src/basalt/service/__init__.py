"""Use cases, one module per aggregate. The service owns every rule."""
