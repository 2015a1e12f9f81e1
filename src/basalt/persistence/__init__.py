"""Storage of Basalt's model: repository contracts and their SQL implementation."""
