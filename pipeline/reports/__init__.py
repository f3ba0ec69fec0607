"""Reports built from the warehouse: the per-snapshot digest and the trend report."""
