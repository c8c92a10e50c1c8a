"""Reports the research cycle itself produces: context reports before a retreat or local event."""
