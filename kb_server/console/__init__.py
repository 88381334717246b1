"""The staff console's logic, shared by its pages (``kb_server.views.console``), the staff
JSON API (``kb_server.views.tickets``) and the ``kb user`` command.

| module | what |
|---|---|
| ``users`` | accounts, roles, lines, tokens (audited) |
| ``queue`` | the queue's views, filters, counts, search and SLA state |
| ``actions`` | every ticket action (assign, reply, note, status, merge, escalate...) |
| ``macros`` | canned answers with placeholders |
| ``strings`` | the console's UI strings in en/ru/uk |
"""
