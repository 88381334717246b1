"""Line-1 tickets: unresolved-search rules, grouping into knowledge gaps, classes, SLA."""
