"""A person's rights over their data: erasure that is verified, and a copy of everything held.

- :mod:`bot.privacy.subject` gathers what identifies one person (ids, name, email, platform ids,
  the words they wrote, their evidence files);
- :mod:`bot.privacy.erasure` deletes it and leaves one audit line without personal data
  (:mod:`bot.privacy.plan` counts what it would delete);
- :mod:`bot.privacy.scan` checks every table and file afterwards and says what remains;
- :mod:`bot.privacy.outbox` handles the digest emails kept as ``.eml`` files;
- :mod:`bot.privacy.access` writes the subject-access zip, :mod:`bot.privacy.held` counts
  what is held (`my data`).
"""
