"""Digests: the weekly summaries that come out of the week's reflections.

Entry points (the scheduler calls the first two; each is safe to call again and again):

- :func:`digests.send.send_due_digests` — leads' weekly digests and the cross-partnership digest
  for researchers, by email (SMTP, or ``.eml`` files in the outbox);
- :func:`digests.heard.send_what_we_heard` — each participant's "what we heard" chat message;
- :func:`digests.render.make_message` — one named email from its templates.

Who may see what, and the small-n rule, are in :mod:`digests.audience`; the exactly-once record
of every digest in :mod:`digests.ledger`.
"""
