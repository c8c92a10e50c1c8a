"""The conversation core: channel-neutral handling of everything people send to carbot."""

from bot.core.conversation import Conversation

__all__ = ["Conversation"]
