"""REST service in the shape of the OpenStack Block Storage v3 API, plus Basalt's own resources."""
