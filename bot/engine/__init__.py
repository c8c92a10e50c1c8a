"""The prompt engine's steps: planning, dispatch, reminders and expiry, and their scheduler."""
