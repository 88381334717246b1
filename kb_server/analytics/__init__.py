"""Analytics: what self-service solves, what it misses, and when people need help.

- ``metrics``: the definitions, pure functions over event rows (sessions, search intents,
  rates, heatmap);
- ``tickets``: line-1 metrics, pure functions over ticket facts; ``links``: which articles a
  ticket is linked to (``link_rate``'s input);
- ``rollup``: days of events reduced once and stored (``kb analytics rollup``);
- ``report``: what the dashboard, the JSON API and the CSV exports show for a date range,
  site, language and channel; ``charts``: the dashboard's server-side SVG.
"""
